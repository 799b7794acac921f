package main

import (
	"context"
	"crypto/tls"
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
	"strings"
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
	// Nodes are the simulated worker nodes (kwok), all Ready and schedulable.
	Nodes []string `json:"nodes"`
	// ControlPlaneNode is the node the static API server's mirror pod is bound to (static mode only).
	ControlPlaneNode string `json:"controlPlaneNode,omitempty"`
	// APIServerManifest is the static pod manifest the API server runs from (static mode only).
	APIServerManifest string `json:"apiserverManifest,omitempty"`
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

// proc is a child process; done is closed once it has exited (err is then its exit status).
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// spawn starts bin with args, output appended to logFile. It dies with its parent (Pdeathsig).
func spawn(name, bin, logFile string, args, env []string) (*proc, error) {
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout = f
	cmd.Stderr = f
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// terminate sends SIGTERM and waits up to grace for the exit, then SIGKILLs.
func (p *proc) terminate(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	dir             string
	timeout         time.Duration
	removeDir       bool
	watchPid        int
	kwok            string
	kwokStages      string
	nodes           int
	staticAPIServer bool
	apiserverArgs   []string
	cmArgs          []string
}

func runUp(argv []string) int {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	var o options
	var extra, cmExtra stringList
	fs.StringVar(&o.dir, "dir", "", "state directory (created if missing)")
	fs.DurationVar(&o.timeout, "timeout", 180*time.Second, "give up if not ready after this long")
	fs.BoolVar(&o.removeDir, "remove-dir", false, "delete DIR after stopping (for throw-away beds)")
	fs.IntVar(&o.watchPid, "watch-pid", 0, "stop when the process with this pid is gone (0: never)")
	fs.StringVar(&o.kwok, "kwok", "", "kwok binary: simulate nodes and pod lifecycles (no nodes without it)")
	fs.StringVar(&o.kwokStages, "kwok-stages", "", "directory of kwok Stage files (*.yaml), required with --kwok")
	fs.IntVar(&o.nodes, "nodes", 3, "number of simulated worker nodes (with --kwok)")
	fs.BoolVar(&o.staticAPIServer, "static-apiserver", false,
		"run the API server from the static pod manifest DIR/manifests/kube-apiserver.yaml, restarted when it changes, with a mirror pod")
	fs.Var(&extra, "apiserver-arg", "extra kube-apiserver flag, e.g. --apiserver-arg=--anonymous-auth=false (replaces the bed's own value of that flag; repeatable)")
	fs.Var(&cmExtra, "controller-manager-arg", "extra kube-controller-manager flag, e.g. --controller-manager-arg=--kube-api-qps=200 (replaces the bed's own value of that flag; repeatable)")
	if err := fs.Parse(argv); err != nil {
		return 2
	}
	o.apiserverArgs = extra
	o.cmArgs = cmExtra
	if o.dir == "" {
		fmt.Fprintln(os.Stderr, "testbed up: --dir is required")
		return 2
	}
	if o.kwok != "" && o.kwokStages == "" {
		fmt.Fprintln(os.Stderr, "testbed up: --kwok needs --kwok-stages DIR")
		return 2
	}
	for _, a := range append(append([]string{}, o.apiserverArgs...), o.cmArgs...) {
		if !strings.HasPrefix(a, "--") {
			fmt.Fprintf(os.Stderr, "testbed up: %q must look like --flag=value\n", a)
			return 2
		}
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		logf("%v", err)
		return 1
	}
	o.dir = dir
	err = run(o)
	if o.removeDir {
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
	children []*proc // stopped in reverse order
	exited   chan string
	static   *staticPod
}

func (p *plane) start(name, bin string, args, env []string) error {
	c, err := spawn(name, bin, filepath.Join(p.dir, name+".log"), args, env)
	if err != nil {
		return err
	}
	p.children = append(p.children, c)
	go func() {
		<-c.done
		p.exited <- fmt.Sprintf("%s exited: %v (see %s)", name, c.err, filepath.Join(p.dir, name+".log"))
	}()
	return nil
}

func (p *plane) stop() {
	// kwok, scheduler, controller manager, then the apiserver, then etcd.
	for i := len(p.children) - 1; i >= 0; i-- {
		p.children[i].terminate(10 * time.Second)
	}
	if p.static != nil {
		p.static.shutdown()
	}
	if p.etcd != nil {
		p.etcd.Close()
	}
	_ = os.Remove(filepath.Join(p.dir, "ready"))
	_ = os.Remove(filepath.Join(p.dir, "testbed.pid"))
}

func startEtcd(dir string) (*embed.Etcd, string, error) {
	var ports [2]int
	for i := range ports {
		var err error
		if ports[i], err = freePort(); err != nil {
			return nil, "", err
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
		return nil, "", fmt.Errorf("etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, "", fmt.Errorf("etcd not ready after 60s (see %s)", filepath.Join(dir, "etcd.log"))
	}
	return e, clientURL.String(), nil
}

func run(o options) error {
	dir := o.dir
	started := time.Now()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Every `up` is a fresh cluster: no etcd data, PKI, manifest or audit log from an earlier run.
	for _, stale := range []string{"ready", "etcd", "pki", "audit.log", "manifests", "kwok"} {
		if err := os.RemoveAll(filepath.Join(dir, stale)); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(dir, "testbed.pid"), fmt.Sprintf("%d\n", os.Getpid()), 0o644); err != nil {
		return err
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if o.watchPid > 0 {
		go func() {
			for syscall.Kill(o.watchPid, 0) == nil {
				time.Sleep(time.Second)
			}
			logf("watched process %d is gone", o.watchPid)
			sigs <- syscall.SIGTERM
		}()
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	p := &plane{dir: dir, exited: make(chan string, 8)}
	defer p.stop()

	certs, err := generatePKI(filepath.Join(dir, "pki"))
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	e, etcdURL, err := startEtcd(dir)
	if err != nil {
		return err
	}
	p.etcd = e
	logf("etcd ready on %s", etcdURL)

	apiPort, err := freePort()
	if err != nil {
		return err
	}
	server := fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	kc := func(name string) string { return filepath.Join(dir, name) }
	files := map[string]string{
		kc("audit-policy.yaml"):             auditPolicy,
		kc("kubeconfig"):                    kubeconfig(server, certs.CA.CertPEM, "kube-harden-testbed", "kube-harden-testbed", "admin", certs.Admin),
		kc("kubeconfig-limited"):            kubeconfig(server, certs.CA.CertPEM, "kube-harden-testbed", "kube-harden-testbed-limited", "limited-user", certs.Limited),
		kc("controller-manager.kubeconfig"): kubeconfig(server, certs.CA.CertPEM, "kube-harden-testbed", "kube-harden-testbed", "system:kube-controller-manager", certs.ControllerManager),
		kc("scheduler.kubeconfig"):          kubeconfig(server, certs.CA.CertPEM, "kube-harden-testbed", "kube-harden-testbed", "system:kube-scheduler", certs.Scheduler),
		kc("kwok.kubeconfig"):               kubeconfig(server, certs.CA.CertPEM, "kube-harden-testbed", "kube-harden-testbed", "kwok-controller", certs.Kwok),
		kc("supervisor.kubeconfig"):         kubeconfig(server, certs.CA.CertPEM, "kube-harden-testbed", "kube-harden-testbed", "testbed-supervisor", certs.Supervisor),
		kc("kubelet.kubeconfig"):            kubeconfig(server, certs.CA.CertPEM, "kube-harden-testbed", "kube-harden-testbed", "system:node:"+controlPlaneNode, certs.Node),
	}
	for path, content := range files {
		if err := writeFile(path, content, 0o600); err != nil {
			return err
		}
	}

	flags := mergeFlags(apiserverFlags(apiPort, etcdURL, certs, kc("audit-policy.yaml"), kc("audit.log")), o.apiserverArgs)
	var manifest string
	if o.staticAPIServer {
		manifest = filepath.Join(dir, "manifests", "kube-apiserver.yaml")
		if err := writeAPIServerManifest(manifest, flags, apiPort, dir); err != nil {
			return fmt.Errorf("writing %s: %w", manifest, err)
		}
		p.static = newStaticPod(manifest, self, filepath.Join(dir, "apiserver.log"), kc("kubelet.kubeconfig"), controlPlaneNode)
		go p.static.run()
		logf("static pod mode: the API server runs from %s", manifest)
	} else if err := p.start("apiserver", self, append([]string{"apiserver"}, flags...), nil); err != nil {
		return err
	}

	httpc, err := supervisorHTTP(certs)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(o.timeout)
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
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("timed out after %v waiting for %s", o.timeout, what)
			}
		}
	}
	get := func(base, path string) bool {
		resp, err := httpc.Get(base + path)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode == http.StatusOK
	}
	if err := waitFor("apiserver /readyz", func() bool { return get(server, "/readyz") }); err != nil {
		return err
	}
	logf("apiserver ready on %s (%.1fs)", server, time.Since(started).Seconds())

	if err := p.start("controller-manager", self, append([]string{"controller-manager"}, mergeFlags([]string{
		"--v=0",
		"--kubeconfig=" + kc("controller-manager.kubeconfig"),
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
	}, o.cmArgs)...), nil); err != nil {
		return err
	}
	// Its secure port serves /readyz (waited for below); without --authentication-kubeconfig it does no
	// delegated authentication (no front-proxy CA here to look up), and /readyz needs none.
	schedPort, err := freePort()
	if err != nil {
		return err
	}
	if err := p.start("scheduler", self, []string{
		"scheduler",
		"--v=0",
		"--kubeconfig=" + kc("scheduler.kubeconfig"),
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", schedPort),
		"--leader-elect=false",
		"--profiling=false",
	}, nil); err != nil {
		return err
	}
	if o.kwok != "" {
		if err := p.startKwok(o, kc("kwok.kubeconfig")); err != nil {
			return err
		}
	}

	cs, err := newClientset(kc("supervisor.kubeconfig"), "testbed-supervisor")
	if err != nil {
		return err
	}
	var workers []string
	if o.kwok != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		workers, err = registerNodes(ctx, cs, o.nodes, o.staticAPIServer)
		cancel()
		if err != nil {
			return err
		}
	}
	if err := waitFor("the default ServiceAccount (controller manager)", func() bool {
		return get(server, "/api/v1/namespaces/default/serviceaccounts/default")
	}); err != nil {
		return err
	}
	if err := waitFor("kube-scheduler /readyz", func() bool { return get(fmt.Sprintf("https://127.0.0.1:%d", schedPort), "/readyz") }); err != nil {
		return err
	}
	if o.kwok != "" {
		all := workers
		if o.staticAPIServer {
			all = append(append([]string{}, workers...), controlPlaneNode)
		}
		if err := waitFor(fmt.Sprintf("nodes %s Ready and untainted (kwok)", strings.Join(all, ", ")), func() bool {
			return nodesReady(cs, all)
		}); err != nil {
			return err
		}
		logf("nodes ready: %s", strings.Join(all, ", "))
	}
	if p.static != nil {
		if err := waitFor("the API server's mirror pod", p.static.mirrorInSync); err != nil {
			return err
		}
	}

	info := readyInfo{
		Server:            server,
		Pid:               os.Getpid(),
		Kubeconfig:        kc("kubeconfig"),
		LimitedKubeconfig: kc("kubeconfig-limited"),
		AuditLog:          kc("audit.log"),
		EtcdServer:        etcdURL,
		Nodes:             workers,
		APIServerManifest: manifest,
	}
	if info.Nodes == nil {
		info.Nodes = []string{}
	}
	if o.staticAPIServer {
		info.ControlPlaneNode = controlPlaneNode
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	if err := writeFile(kc("ready"), string(b)+"\n", 0o644); err != nil {
		return err
	}
	logf("ready in %.1fs: %s", time.Since(started).Seconds(), info.Kubeconfig)
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

// startKwok runs kwok against the bed: it manages every node (leases, status) and plays the pod
// Stages found in o.kwokStages (see test/cluster/kwok/).
func (p *plane) startKwok(o options, kubeconfigPath string) error {
	stages, err := filepath.Glob(filepath.Join(o.kwokStages, "*.yaml"))
	if err != nil || len(stages) == 0 {
		return fmt.Errorf("no kwok stages (*.yaml) in %s", o.kwokStages)
	}
	workdir := filepath.Join(p.dir, "kwok")
	if err := os.MkdirAll(workdir, 0o755); err != nil {
		return err
	}
	args := []string{
		"--kubeconfig=" + kubeconfigPath,
		"--manage-all-nodes=true",
		"--cidr=10.244.0.0/16",
		"--node-ip=10.89.0.1",
		"--node-lease-duration-seconds=40",
	}
	for _, s := range stages {
		args = append(args, "--config="+s)
	}
	// KWOK_WORKDIR keeps kwok away from ~/.kwok (it would read ~/.kwok/kwok.yaml if present).
	return p.start("kwok", o.kwok, args, []string{"KWOK_WORKDIR=" + workdir})
}

func supervisorHTTP(certs *pki) (*http.Client, error) {
	pair, err := tls.X509KeyPair(certs.Supervisor.CertPEM, certs.Supervisor.KeyPEM)
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			// The apiserver's cert is checked against the bed's CA in client-go calls; these probes also
			// reach the scheduler, whose serving cert is self-signed.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{pair}},
		},
	}, nil
}
