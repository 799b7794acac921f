package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`

// readyInfo is written to DIR/ready once the control plane is usable; the TypeScript side reads it.
type readyInfo struct {
	Server            string `json:"server"`
	Pid               int    `json:"pid"`
	Kubeconfig        string `json:"kubeconfig"`
	LimitedKubeconfig string `json:"limitedKubeconfig"`
	AuditLog          string `json:"auditLog"`
	EtcdServer        string `json:"etcdServer"`
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s testbed: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, a...))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func kubeconfig(server string, caPEM []byte, cluster, context, user string, kp keyPair) string {
	b := base64.StdEncoding.EncodeToString
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[2]s
  cluster:
    server: %[1]s
    certificate-authority-data: %[5]s
contexts:
- name: %[3]s
  context:
    cluster: %[2]s
    user: %[4]s
current-context: %[3]s
users:
- name: %[4]s
  user:
    client-certificate-data: %[6]s
    client-key-data: %[7]s
`, server, cluster, context, user, b(caPEM), b(kp.CertPEM), b(kp.KeyPEM))
}

func writeFile(path, content string, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// child starts this same binary with a sub-command, output to logFile. It dies with its parent.
func child(sub string, logFile string, args []string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, append([]string{sub}, args...)...)
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	f.Close()
	return cmd, nil
}

func runUp(argv []string) int {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "state directory (created if missing)")
	timeout := fs.Duration("timeout", 180*time.Second, "give up if not ready after this long")
	removeDir := fs.Bool("remove-dir", false, "delete DIR after stopping (for throw-away beds)")
	watchPid := fs.Int("watch-pid", 0, "stop when the process with this pid is gone (0: never)")
	if err := fs.Parse(argv); err != nil {
		return 2
	}
	if *dirFlag == "" {
		fmt.Fprintln(os.Stderr, "testbed up: --dir is required")
		return 2
	}
	dir, err := filepath.Abs(*dirFlag)
	if err != nil {
		logf("%v", err)
		return 1
	}
	err = run(dir, *timeout, *watchPid)
	if *removeDir {
		_ = os.RemoveAll(dir)
	}
	if err != nil {
		logf("error: %v", err)
		return 1
	}
	return 0
}

type plane struct {
	dir      string
	etcd     *embed.Etcd
	children []*exec.Cmd
	exited   chan string
}

func (p *plane) start(name, sub string, args []string) error {
	cmd, err := child(sub, filepath.Join(p.dir, name+".log"), args)
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	p.children = append(p.children, cmd)
	go func() {
		err := cmd.Wait()
		p.exited <- fmt.Sprintf("%s exited: %v (see %s)", name, err, filepath.Join(p.dir, name+".log"))
	}()
	return nil
}

func (p *plane) stop() {
	// Controller manager first, then the apiserver, then etcd.
	for i := len(p.children) - 1; i >= 0; i-- {
		c := p.children[i]
		if c.ProcessState != nil {
			continue
		}
		_ = c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			for c.ProcessState == nil {
				if err := c.Process.Signal(syscall.Signal(0)); err != nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = c.Process.Kill()
		}
	}
	if p.etcd != nil {
		p.etcd.Close()
	}
	_ = os.Remove(filepath.Join(p.dir, "ready"))
	_ = os.Remove(filepath.Join(p.dir, "testbed.pid"))
}

func run(dir string, timeout time.Duration, watchPid int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Every `up` is a fresh cluster: no etcd data, PKI or audit log from an earlier run.
	for _, stale := range []string{"ready", "etcd", "pki", "audit.log"} {
		if err := os.RemoveAll(filepath.Join(dir, stale)); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(dir, "testbed.pid"), fmt.Sprintf("%d\n", os.Getpid()), 0o644); err != nil {
		return err
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if watchPid > 0 {
		go func() {
			for syscall.Kill(watchPid, 0) == nil {
				time.Sleep(time.Second)
			}
			logf("watched process %d is gone", watchPid)
			sigs <- syscall.SIGTERM
		}()
	}

	p := &plane{dir: dir, exited: make(chan string, 4)}
	defer p.stop()

	certs, err := generatePKI(filepath.Join(dir, "pki"))
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}

	// etcd, in this process.
	ports := make([]int, 3)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return err
		}
	}
	clientURL, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", ports[0]))
	peerURL, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", ports[1]))
	cfg := embed.NewConfig()
	cfg.Name = "testbed"
	cfg.Dir = filepath.Join(dir, "etcd")
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.UnsafeNoFsync = true
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{filepath.Join(dir, "etcd.log")}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	p.etcd = e
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		return fmt.Errorf("etcd not ready after 60s (see %s)", filepath.Join(dir, "etcd.log"))
	}
	logf("etcd ready on %s", clientURL)

	server := fmt.Sprintf("https://127.0.0.1:%d", ports[2])
	policy := filepath.Join(dir, "audit-policy.yaml")
	auditLog := filepath.Join(dir, "audit.log")
	files := map[string]string{
		policy:                                   auditPolicy,
		filepath.Join(dir, "kubeconfig"):         kubeconfig(server, certs.CA.CertPEM, "kube-harden-testbed", "kube-harden-testbed", "admin", certs.Admin),
		filepath.Join(dir, "kubeconfig-limited"): kubeconfig(server, certs.CA.CertPEM, "kube-harden-testbed", "kube-harden-testbed-limited", "limited-user", certs.Limited),
		filepath.Join(dir, "controller-manager.kubeconfig"): kubeconfig(server, certs.CA.CertPEM, "kube-harden-testbed", "kube-harden-testbed", "system:kube-controller-manager", certs.ControllerManager),
	}
	for path, content := range files {
		if err := writeFile(path, content, 0o600); err != nil {
			return err
		}
	}

	if err := p.start("apiserver", "apiserver", []string{
		"--v=0",
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", ports[2]),
		"--etcd-servers=" + clientURL.String(),
		"--tls-cert-file=" + certs.Serving.CertFile,
		"--tls-private-key-file=" + certs.Serving.KeyFile,
		"--client-ca-file=" + certs.CA.CertFile,
		"--authorization-mode=Node,RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + certs.SAPubFile,
		"--service-account-signing-key-file=" + certs.SAKeyFile,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=true",
		"--audit-policy-file=" + policy,
		"--audit-log-path=" + auditLog,
		"--audit-log-mode=blocking",
		"--profiling=false",
	}); err != nil {
		return err
	}

	httpc, err := adminClient(certs)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	waitFor := func(what string, ok func() bool) error {
		for {
			if ok() {
				return nil
			}
			select {
			case msg := <-p.exited:
				return fmt.Errorf("%s", msg)
			case s := <-sigs:
				return fmt.Errorf("got %v while waiting for %s", s, what)
			case <-time.After(250 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("timed out after %v waiting for %s", timeout, what)
			}
		}
	}
	get := func(path string) bool {
		resp, err := httpc.Get(server + path)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode == http.StatusOK
	}
	if err := waitFor("apiserver /readyz", func() bool { return get("/readyz") }); err != nil {
		return err
	}
	logf("apiserver ready on %s", server)

	if err := p.start("controller-manager", "controller-manager", []string{
		"--v=0",
		"--kubeconfig=" + filepath.Join(dir, "controller-manager.kubeconfig"),
		"--bind-address=127.0.0.1",
		"--secure-port=0",
		"--service-account-private-key-file=" + certs.SAKeyFile,
		"--root-ca-file=" + certs.CA.CertFile,
		"--use-service-account-credentials=true",
		"--controllers=*",
		"--leader-elect=false",
		"--cluster-signing-cert-file=" + certs.CA.CertFile,
		"--cluster-signing-key-file=" + certs.CA.KeyFile,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--profiling=false",
	}); err != nil {
		return err
	}
	if err := waitFor("the default ServiceAccount (controller manager)", func() bool {
		return get("/api/v1/namespaces/default/serviceaccounts/default")
	}); err != nil {
		return err
	}

	info := readyInfo{
		Server:            server,
		Pid:               os.Getpid(),
		Kubeconfig:        filepath.Join(dir, "kubeconfig"),
		LimitedKubeconfig: filepath.Join(dir, "kubeconfig-limited"),
		AuditLog:          auditLog,
		EtcdServer:        clientURL.String(),
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	if err := writeFile(filepath.Join(dir, "ready"), string(b)+"\n", 0o644); err != nil {
		return err
	}
	logf("ready: %s", info.Kubeconfig)
	fmt.Println(info.Kubeconfig)

	select {
	case s := <-sigs:
		logf("got %v, stopping", s)
		return nil
	case msg := <-p.exited:
		return fmt.Errorf("%s", msg)
	case err := <-e.Err():
		return fmt.Errorf("etcd: %w", err)
	}
}

func adminClient(certs *pki) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certs.CA.CertPEM) {
		return nil, fmt.Errorf("bad CA")
	}
	pair, err := tls.X509KeyPair(certs.Admin.CertPEM, certs.Admin.KeyPEM)
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}},
		},
	}, nil
}
