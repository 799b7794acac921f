package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func newClientset(kubeconfigPath, userAgent string) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfigPath)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 50, 100
	cfg.Timeout = 10 * time.Second
	cfg.UserAgent = userAgent
	return kubernetes.NewForConfig(cfg)
}

// fakeNode is a Node object for kwok to manage, labelled like kwok's documentation suggests and like a
// kubelet registers itself. The status carries addresses only: kwok's node-initialize Stage fills in
// conditions, capacity and nodeInfo (and keeps these addresses).
func fakeNode(name, ip string, controlPlane bool) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				"beta.kubernetes.io/arch": "amd64",
				"beta.kubernetes.io/os":   "linux",
				"kubernetes.io/arch":      "amd64",
				"kubernetes.io/hostname":  name,
				"kubernetes.io/os":        "linux",
				"type":                    "kwok",
			},
			Annotations: map[string]string{
				"kwok.x-k8s.io/node":                                     "fake",
				"node.alpha.kubernetes.io/ttl":                           "0",
				"volumes.kubernetes.io/controller-managed-attach-detach": "true",
			},
		},
		Status: corev1.NodeStatus{
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}, {Type: corev1.NodeHostName, Address: name}},
		},
	}
	if controlPlane {
		// As kubeadm labels and taints a control-plane node.
		n.Labels["node-role.kubernetes.io/control-plane"] = ""
		n.Labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
		n.Spec.Taints = []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}
	} else {
		n.Labels["kubernetes.io/role"] = "agent"
		n.Labels["node-role.kubernetes.io/agent"] = ""
	}
	return n
}

// registerNodes creates n worker nodes kwok-node-0..n-1 (and the control-plane node when asked) and
// returns the workers' names.
func registerNodes(ctx context.Context, cs kubernetes.Interface, n int, controlPlane bool) ([]string, error) {
	var nodes []*corev1.Node
	var workers []string
	if controlPlane {
		nodes = append(nodes, fakeNode(controlPlaneNode, "10.89.0.2", true))
	}
	for i := range n {
		name := fmt.Sprintf("kwok-node-%d", i)
		workers = append(workers, name)
		nodes = append(nodes, fakeNode(name, fmt.Sprintf("10.89.1.%d", 10+i), false))
	}
	for _, node := range nodes {
		if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("register node %s: %w", node.Name, err)
		}
	}
	return workers, nil
}

// nodesReady: every named node is Ready and carries none of the node.kubernetes.io/* taints (the
// TaintNodesByCondition admission adds not-ready at creation; the node lifecycle controller removes it
// once kwok reports the node Ready).
func nodesReady(cs kubernetes.Interface, names []string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false
	}
	ready := map[string]bool{}
	for _, n := range list.Items {
		ok := false
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ok = true
			}
		}
		for _, t := range n.Spec.Taints {
			if strings.HasPrefix(t.Key, "node.kubernetes.io/") {
				ok = false
			}
		}
		ready[n.Name] = ok
	}
	for _, name := range names {
		if !ready[name] {
			return false
		}
	}
	return true
}
