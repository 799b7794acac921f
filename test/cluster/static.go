package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Back-off between restarts of a failing API server, like the kubelet's CrashLoopBackOff (which starts
// at 10 s and caps at 5 min) but shorter, for tests. A change of the manifest restarts at once.
const (
	backoffInitial = 1 * time.Second
	backoffMax     = 16 * time.Second
	// A run this long resets the back-off (the kubelet resets after 10 min).
	backoffReset  = 60 * time.Second
	pollInterval  = 500 * time.Millisecond
	stopGrace     = 5 * time.Second
	mirrorRecheck = 10 * time.Second
)

// staticPod plays the kubelet's file source for one static pod, the API server: it polls the manifest's
// hash, runs `testbed apiserver` with the manifest's flags, restarts it on change or crash, and keeps the
// mirror pod in kube-system in step with the manifest.
type staticPod struct {
	manifest, self, logFile, kubeconfig, node string

	quit chan struct{}
	done chan struct{}

	mu      sync.Mutex
	pod     *corev1.Pod // the manifest's pod, nil while the file is unreadable or invalid
	hash    string      // hash of the manifest content in use
	current *proc       // the running API server, if any
	mirror  string      // hash the mirror pod was last confirmed for
	checked time.Time   // when the mirror pod was last confirmed
	client  kubernetes.Interface
}

func newStaticPod(manifest, self, logFile, kubeconfigPath, node string) *staticPod {
	return &staticPod{
		manifest: manifest, self: self, logFile: logFile, kubeconfig: kubeconfigPath, node: node,
		quit: make(chan struct{}), done: make(chan struct{}),
	}
}

func (s *staticPod) shutdown() {
	close(s.quit)
	<-s.done
}

// mirrorInSync reports whether the mirror pod matches the manifest the API server runs.
func (s *staticPod) mirrorInSync() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pod != nil && s.mirror == s.hash
}

func (s *staticPod) currentHash() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hash
}

func (s *staticPod) run() {
	defer close(s.done)
	var (
		args      []string
		seen      bool
		readErr   string
		nextStart time.Time
		backoff   time.Duration
		startedAt time.Time
		syncing   bool
		syncDone  = make(chan struct{}, 1)
	)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	stopCurrent := func(why string) {
		s.mu.Lock()
		cur := s.current
		s.current = nil
		s.mu.Unlock()
		if cur != nil {
			logf("static pod: stopping kube-apiserver (%s)", why)
			cur.terminate(stopGrace)
		}
	}
	for {
		select {
		case <-s.quit:
			stopCurrent("shutting down")
			return
		case <-syncDone:
			syncing = false
		case <-tick.C:
		}

		// 1. The manifest: a new hash replaces the running API server at once.
		data, err := os.ReadFile(s.manifest)
		if err != nil {
			if msg := err.Error(); msg != readErr {
				readErr = msg
				logf("static pod: cannot read %s: %v (the API server stays down until it is back)", s.manifest, err)
			}
			data = nil
		} else {
			readErr = ""
		}
		if hash := manifestHash(data); !seen || hash != s.currentHash() {
			var pod *corev1.Pod
			var a []string
			if data != nil {
				var perr error
				if pod, a, perr = parseAPIServerManifest(data); perr != nil {
					logf("static pod: %s: %v (the API server stays down until the file is fixed)", s.manifest, perr)
				}
			}
			if seen {
				stopCurrent("manifest changed")
			}
			seen = true
			s.mu.Lock()
			s.pod, s.hash = pod, hash
			s.mu.Unlock()
			args, nextStart, backoff = a, time.Now(), 0
			if pod != nil {
				logf("static pod: manifest %s (hash %s)", s.manifest, hash)
			}
		}

		// 2. The process: start it when due; notice an exit and schedule a restart with back-off.
		s.mu.Lock()
		cur := s.current
		s.mu.Unlock()
		if cur != nil {
			select {
			case <-cur.done:
				ran := time.Since(startedAt)
				if ran > backoffReset {
					backoff = 0
				}
				if backoff == 0 {
					backoff = backoffInitial
				} else {
					backoff = min(2*backoff, backoffMax)
				}
				nextStart = time.Now().Add(backoff)
				logf("static pod: kube-apiserver exited after %.1fs (%v); back-off %v restarting failed container (see %s)",
					ran.Seconds(), cur.err, backoff, s.logFile)
				s.mu.Lock()
				s.current = nil
				s.mu.Unlock()
				cur = nil
			default:
			}
		}
		if cur == nil && args != nil && !time.Now().Before(nextStart) {
			c, err := spawn("apiserver", s.self, s.logFile, append([]string{"apiserver"}, args...), nil)
			if err != nil {
				logf("static pod: %v", err)
				nextStart = time.Now().Add(backoffMax)
			} else {
				startedAt = time.Now()
				s.mu.Lock()
				s.current = c
				s.mu.Unlock()
				logf("static pod: started kube-apiserver (pid %d)", c.cmd.Process.Pid)
			}
		}

		// 3. The mirror pod, in the background (the API server may take seconds to answer).
		s.mu.Lock()
		due := s.current != nil && s.pod != nil && (s.mirror != s.hash || time.Since(s.checked) > mirrorRecheck)
		s.mu.Unlock()
		if due && !syncing {
			syncing = true
			go func() {
				s.syncMirror()
				syncDone <- struct{}{}
			}()
		}
	}
}

// mirrorPod is the pod the kubelet would create in the API for the static pod `pod` (hash `hash`).
func (s *staticPod) mirrorPod(pod *corev1.Pod, hash string, nodeUID string) *corev1.Pod {
	m := pod.DeepCopy()
	m.Name = pod.Name + "-" + s.node
	if m.Namespace == "" {
		m.Namespace = metav1.NamespaceDefault
	}
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations["kubernetes.io/config.hash"] = hash
	m.Annotations["kubernetes.io/config.mirror"] = hash
	m.Annotations["kubernetes.io/config.seen"] = time.Now().UTC().Format(time.RFC3339Nano)
	m.Annotations["kubernetes.io/config.source"] = "file"
	m.Spec.NodeName = s.node
	// The kubelet lets static pods tolerate every NoExecute taint.
	m.Spec.Tolerations = append(m.Spec.Tolerations, corev1.Toleration{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute})
	controller := true
	m.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: s.node, UID: types.UID(nodeUID), Controller: &controller}}
	m.Status = corev1.PodStatus{}
	return m
}

// syncMirror makes the mirror pod match the manifest: mirror pods cannot be updated, so a stale one is
// deleted (precondition: its uid) and created again, as the kubelet does. Errors are retried later.
func (s *staticPod) syncMirror() {
	s.mu.Lock()
	pod, hash := s.pod, s.hash
	s.mu.Unlock()
	if pod == nil {
		return
	}
	if s.client == nil { // only this goroutine (one sync at a time) touches s.client
		cs, err := newClientset(s.kubeconfig, "kubelet/"+kubernetesVersion+" (testbed static pods)")
		if err != nil {
			logf("static pod: mirror pod: %v", err)
			return
		}
		s.client = cs
	}
	cs := s.client
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	node, err := cs.CoreV1().Nodes().Get(ctx, s.node, metav1.GetOptions{})
	if err != nil {
		return // API server not answering yet, or the node not registered yet
	}
	want := s.mirrorPod(pod, hash, string(node.UID))
	if err := ensureMirror(ctx, cs, want, hash); err != nil {
		logf("static pod: mirror pod %s/%s: %v", want.Namespace, want.Name, err)
		return
	}
	s.mu.Lock()
	if s.hash == hash {
		if s.mirror != hash {
			logf("static pod: mirror pod %s/%s in step with the manifest (hash %s)", want.Namespace, want.Name, hash)
		}
		s.mirror = hash
		s.checked = time.Now()
	}
	s.mu.Unlock()
}

func ensureMirror(ctx context.Context, cs kubernetes.Interface, want *corev1.Pod, hash string) error {
	pods := cs.CoreV1().Pods(want.Namespace)
	// A kubelet sees pods through a watch scoped to its node (the Node authorizer allows nothing wider,
	// and refuses a GET of a pod it does not know to be bound to the node): list with that field selector.
	list, err := pods.List(ctx, metav1.ListOptions{
		FieldSelector: "metadata.name=" + want.Name + ",spec.nodeName=" + want.Spec.NodeName,
	})
	if err != nil {
		return err
	}
	for _, got := range list.Items {
		if got.Annotations["kubernetes.io/config.mirror"] == hash && got.DeletionTimestamp == nil {
			return nil
		}
		zero := int64(0)
		uid := got.UID
		err := pods.Delete(ctx, want.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("delete stale mirror pod: %w", err)
		}
	}
	_, err = pods.Create(ctx, want, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("a pod of that name exists (deleted, or not bound to %s): retrying", want.Spec.NodeName)
	}
	return err
}
