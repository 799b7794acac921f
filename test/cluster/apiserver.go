package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// controlPlaneNode is the node the static API server "runs on" (its mirror pod is bound to it).
const controlPlaneNode = "testbed-control-plane"

// kubernetesVersion is the release the bed is built from (also set by ldflags in testbed.ts).
const kubernetesVersion = "v1.34.4"

// apiserverFlags are the bed's kube-apiserver flags (without the command name).
func apiserverFlags(port int, etcdURL string, certs *pki, policy, auditLog string) []string {
	return []string{
		"--advertise-address=127.0.0.1",
		"--allow-privileged=true",
		"--audit-log-mode=blocking",
		"--audit-log-path=" + auditLog,
		"--audit-policy-file=" + policy,
		"--authorization-mode=Node,RBAC",
		"--bind-address=127.0.0.1",
		"--client-ca-file=" + certs.CA.CertFile,
		"--etcd-servers=" + etcdURL,
		"--profiling=false",
		fmt.Sprintf("--secure-port=%d", port),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + certs.SAPubFile,
		"--service-account-signing-key-file=" + certs.SAKeyFile,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--tls-cert-file=" + certs.Serving.CertFile,
		"--tls-private-key-file=" + certs.Serving.KeyFile,
		"--v=0",
	}
}

func flagName(arg string) string {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return name
}

// mergeFlags returns base with each extra flag replacing the base flag of the same name (in place), or
// appended when base has no such flag.
func mergeFlags(base, extra []string) []string {
	out := append([]string{}, base...)
	for _, e := range extra {
		replaced := false
		for i, b := range out {
			if flagName(b) == flagName(e) {
				out[i] = e
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, e)
		}
	}
	return out
}

func hostPathVolume(name, path string, t corev1.HostPathType) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path, Type: &t}}}
}

// apiserverPod is a kubeadm-style static Pod for the API server, running with `flags`.
func apiserverPod(flags []string, port int, dir string) *corev1.Pod {
	probe := func(path string, failures int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Host: "127.0.0.1", Path: path, Port: intstr.FromInt(port), Scheme: corev1.URISchemeHTTPS,
			}},
			InitialDelaySeconds: 10, PeriodSeconds: 10, TimeoutSeconds: 15, FailureThreshold: failures,
		}
	}
	readiness := probe("/readyz", 3)
	readiness.PeriodSeconds = 1
	readiness.InitialDelaySeconds = 0
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      "kube-apiserver",
			Namespace: "kube-system",
			Labels:    map[string]string{"component": "kube-apiserver", "tier": "control-plane"},
			Annotations: map[string]string{
				"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": fmt.Sprintf("127.0.0.1:%d", port),
			},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:            "kube-apiserver",
				Image:           "registry.k8s.io/kube-apiserver:" + kubernetesVersion,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Command:         append([]string{"kube-apiserver"}, flags...),
				LivenessProbe:   probe("/livez", 8),
				ReadinessProbe:  readiness,
				StartupProbe:    probe("/livez", 24),
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("250m"),
				}},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "k8s-certs", MountPath: filepath.Join(dir, "pki"), ReadOnly: true},
					{Name: "audit-policy", MountPath: filepath.Join(dir, "audit-policy.yaml"), ReadOnly: true},
					{Name: "audit-log", MountPath: filepath.Join(dir, "audit.log")},
				},
			}},
			HostNetwork:       true,
			PriorityClassName: "system-node-critical",
			SecurityContext:   &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Volumes: []corev1.Volume{
				hostPathVolume("k8s-certs", filepath.Join(dir, "pki"), corev1.HostPathDirectoryOrCreate),
				hostPathVolume("audit-policy", filepath.Join(dir, "audit-policy.yaml"), corev1.HostPathFile),
				hostPathVolume("audit-log", filepath.Join(dir, "audit.log"), corev1.HostPathFileOrCreate),
			},
		},
	}
}

const manifestHeader = `# The test bed's kube-apiserver, as a kubeadm-style static pod. The test bed's supervisor plays the
# kubelet: it polls this file, restarts the API server with the new flags when it changes (with
# back-off while it fails), and keeps the mirror pod kube-system/kube-apiserver-` + controlPlaneNode + ` in step.
`

func writeAPIServerManifest(path string, flags []string, port int, dir string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := yaml.Marshal(apiserverPod(flags, port, dir))
	if err != nil {
		return err
	}
	return writeFile(path, manifestHeader+string(b), 0o600)
}

// manifestHash identifies a manifest's content (the kubelet's config.hash plays this role).
func manifestHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// parseAPIServerManifest reads a static pod manifest and returns the pod and the kube-apiserver
// arguments (command[1:] + args of the kube-apiserver container).
func parseAPIServerManifest(data []byte) (*corev1.Pod, []string, error) {
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(data, &pod); err != nil {
		return nil, nil, fmt.Errorf("not a valid Pod manifest: %w", err)
	}
	if pod.Kind != "Pod" || pod.Name == "" {
		return nil, nil, fmt.Errorf("not a Pod manifest with a name (kind %q, name %q)", pod.Kind, pod.Name)
	}
	for _, c := range pod.Spec.Containers {
		if c.Name != "kube-apiserver" {
			continue
		}
		if len(c.Command) == 0 || filepath.Base(c.Command[0]) != "kube-apiserver" {
			return nil, nil, fmt.Errorf("container kube-apiserver: command must start with kube-apiserver, got %q", c.Command)
		}
		return &pod, append(append([]string{}, c.Command[1:]...), c.Args...), nil
	}
	return nil, nil, fmt.Errorf("no container named kube-apiserver")
}
