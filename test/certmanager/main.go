// cert-manager's controllers for the kube-harden test bed: the same controller packages as cert-manager's
// own `controller` binary (github.com/cert-manager/cert-manager/cmd/controller, a separate module not on
// the Go module proxy), wired the way its app.Run does (controller.NewContextFactory, then every enabled
// constructor from controller.Known(), then the shared informer factories), minus what a test does not
// need: leader election, the metrics/healthz/pprof servers, ACME, Vault, Venafi and the Gateway API shim.
// Defaults are cert-manager's own (internal/apis/config/controller/v1alpha1/defaults.go), except
// --cluster-resource-namespace, which defaults to cert-manager (where the chart installs it) instead of
// kube-system.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"

	cm "github.com/cert-manager/cert-manager/pkg/apis/certmanager"
	"github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"

	shimingresses "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/ingresses"
	crapprover "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"

	// The issuer types the issuers/clusterissuers controllers can set up (they register in init).
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// defaultControllers are the controllers this binary runs unless --controllers says otherwise.
var defaultControllers = []string{
	issuers.ControllerName,
	clusterissuers.ControllerName,
	shimingresses.ControllerName,
	crapprover.ControllerName,
	crca.CRControllerName,
	crselfsigned.CRControllerName,
	trigger.ControllerName,
	issuing.ControllerName,
	keymanager.ControllerName,
	requestmanager.ControllerName,
	readiness.ControllerName,
	revisionmanager.ControllerName,
}

func main() {
	os.Exit(run())
}

func run() int {
	kubeconfig := flag.String("kubeconfig", "", "path to a kubeconfig (required)")
	clusterResourceNamespace := flag.String("cluster-resource-namespace", "cert-manager",
		"namespace holding the Secrets that ClusterIssuers refer to")
	namespace := flag.String("namespace", "", "watch only this namespace (default: all)")
	controllers := flag.String("controllers", strings.Join(defaultControllers, ","),
		"comma-separated controllers to run (any of: "+strings.Join(defaultControllers, ", ")+")")
	workers := flag.Int("concurrent-workers", 5, "workers per controller")
	qps := flag.Float64("kube-api-qps", 20, "client QPS when the server has no API Priority and Fairness")
	burst := flag.Int("kube-api-burst", 50, "client burst when the server has no API Priority and Fairness")
	featureGates := flag.String("feature-gates", "", "cert-manager feature gates, key=value,...")
	readyFile := flag.String("ready-file", "", "write this file once every controller runs and the caches are synced")
	watchPid := flag.Int("watch-pid", 0, "exit when this process is gone (the test process that started us)")
	klog.InitFlags(flag.CommandLine)
	flag.Parse()
	if *kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "--kubeconfig is required")
		return 2
	}
	if *featureGates != "" {
		if err := utilfeature.DefaultMutableFeatureGate.Set(*featureGates); err != nil {
			fmt.Fprintf(os.Stderr, "--feature-gates: %v\n", err)
			return 2
		}
	}

	logf.InitLogs()
	defer logf.FlushLogs()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx = logf.NewContext(ctx, logf.Log, "controller")
	log := logf.FromContext(ctx)
	if *watchPid > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			for range time.Tick(time.Second) {
				if err := syscall.Kill(*watchPid, 0); errors.Is(err, syscall.ESRCH) {
					log.Info("watched process is gone, stopping", "pid", *watchPid)
					cancel()
					// Informers still waiting for a dead server take a while to give up: do not linger.
					time.AfterFunc(10*time.Second, func() { os.Exit(1) })
					return
				}
			}
		}()
	}

	enabled := sets.New[string]()
	for _, n := range strings.Split(*controllers, ",") {
		if n = strings.TrimSpace(n); n != "" {
			enabled.Insert(n)
		}
	}
	known := controller.Known()
	for n := range enabled {
		if _, ok := known[n]; !ok {
			fmt.Fprintf(os.Stderr, "--controllers: unknown controller %q (known: %s)\n", n, strings.Join(sortedKeys(known), ", "))
			return 2
		}
	}

	if err := runControllers(ctx, options{
		kubeconfig:               *kubeconfig,
		namespace:                *namespace,
		clusterResourceNamespace: *clusterResourceNamespace,
		qps:                      float32(*qps),
		burst:                    *burst,
		workers:                  *workers,
		enabled:                  enabled,
		readyFile:                *readyFile,
	}); err != nil {
		log.Error(err, "cert-manager controllers failed")
		return 1
	}
	log.Info("control loops exited")
	return 0
}

type options struct {
	kubeconfig, namespace, clusterResourceNamespace string
	qps                                             float32
	burst, workers                                  int
	enabled                                         sets.Set[string]
	readyFile                                       string
}

func runControllers(rootCtx context.Context, o options) error {
	rootCtx, cancel := context.WithCancel(rootCtx)
	defer cancel()
	log := logf.FromContext(rootCtx)
	g, rootCtx := errgroup.WithContext(rootCtx)

	ctxFactory, err := controller.NewContextFactory(rootCtx, controller.ContextOptions{
		Kubeconfig:         o.kubeconfig,
		KubernetesAPIQPS:   o.qps,
		KubernetesAPIBurst: o.burst,
		Namespace:          o.namespace,
		ACMEOptions: controller.ACMEOptions{
			HTTP01SolverResourceRequestCPU:    resource.MustParse("10m"),
			HTTP01SolverResourceRequestMemory: resource.MustParse("64Mi"),
			HTTP01SolverResourceLimitsCPU:     resource.MustParse("100m"),
			HTTP01SolverResourceLimitsMemory:  resource.MustParse("64Mi"),
			ACMEHTTP01SolverRunAsNonRoot:      true,
			DNS01CheckRetryPeriod:             10 * time.Second,
			DNS01CheckAuthoritative:           true,
		},
		SchedulerOptions: controller.SchedulerOptions{MaxConcurrentChallenges: 60},
		IssuerOptions: controller.IssuerOptions{
			ClusterResourceNamespace:        o.clusterResourceNamespace,
			ClusterIssuerAmbientCredentials: true,
			IssuerAmbientCredentials:        false,
		},
		IngressShimOptions: controller.IngressShimOptions{
			DefaultIssuerKind:                 "Issuer",
			DefaultIssuerGroup:                cm.GroupName,
			DefaultAutoCertificateAnnotations: []string{"kubernetes.io/tls-acme"},
			ExtraCertificateAnnotations:       []string{},
			GatewayAPIExtraProtocols:          sets.New[string](),
		},
		CertificateOptions: controller.CertificateOptions{
			EnableOwnerRef:                           false,
			CopiedAnnotationPrefixes:                 []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"},
			CertificateRequestMinimumBackoffDuration: time.Hour,
			CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
		},
	})
	if err != nil {
		return err
	}
	ctx, err := ctxFactory.Build()
	if err != nil {
		return err
	}

	names := sets.List(o.enabled)
	log.Info(fmt.Sprintf("enabled controllers: %s", names))
	for _, n := range names {
		iface, err := controller.Known()[n](ctxFactory)
		if err != nil {
			cancel()
			_ = g.Wait()
			return fmt.Errorf("error starting controller %s: %w", n, err)
		}
		l := log.WithValues("controller", n)
		g.Go(func() error {
			l.Info("starting controller")
			return iface.Run(o.workers, rootCtx)
		})
	}

	ctx.SharedInformerFactory.Start(rootCtx.Done())
	ctx.KubeSharedInformerFactory.Start(rootCtx.Done())
	ctx.HTTP01ResourceMetadataInformersFactory.Start(rootCtx.Done())

	if o.readyFile != "" {
		g.Go(func() error {
			ctx.SharedInformerFactory.WaitForCacheSync(rootCtx.Done())
			ctx.KubeSharedInformerFactory.WaitForCacheSync(rootCtx.Done())
			if rootCtx.Err() != nil {
				return nil
			}
			log.Info("caches synced, controllers running")
			return os.WriteFile(o.readyFile, []byte(strings.Join(names, "\n")+"\n"), 0o644)
		})
	}

	err = g.Wait()
	ctx.HTTP01ResourceMetadataInformersFactory.Shutdown()
	ctx.KubeSharedInformerFactory.Shutdown()
	ctx.SharedInformerFactory.Shutdown()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func sortedKeys(m map[string]controller.Constructor) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
