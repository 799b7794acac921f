// Command testbed runs a throw-away Kubernetes control plane on loopback for kube-harden's tests:
// embedded etcd, kube-apiserver, kube-controller-manager and kube-scheduler, all from
// k8s.io/kubernetes v1.34.4, plus kwok (a separate binary) simulating the nodes' kubelets.
//
// Usage:
//
//	testbed up --dir DIR [--kwok BIN --kwok-stages DIR] [--nodes N] [--static-apiserver]
//	           [--apiserver-arg=--flag=value ...] [--controller-manager-arg=--flag=value ...]
//	                                supervisor: PKI, kubeconfigs, etcd (in-process), the servers as child
//	                                processes of this same binary, kwok and its nodes; writes DIR/ready
//	                                when usable (see up.go)
//	testbed apiserver [flags...]    kube-apiserver (used by `up`)
//	testbed controller-manager [...] kube-controller-manager (used by `up`)
//	testbed scheduler [flags...]    kube-scheduler (used by `up`)
//
// Each server runs in its own process because they call SetupSignalHandler-style helpers that may only
// be called once per process, and so that their logs go to separate files.
package main

import (
	"fmt"
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: testbed up --dir DIR [options] | testbed apiserver [flags] | testbed controller-manager [flags] | testbed scheduler [flags]")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	sub, args := os.Args[1], os.Args[2:]
	switch sub {
	case "up":
		os.Exit(runUp(args))
	case "apiserver":
		cmd := apiserver.NewAPIServerCommand()
		cmd.SetArgs(args)
		os.Exit(cli.Run(cmd))
	case "controller-manager":
		cmd := controllermanager.NewControllerManagerCommand()
		cmd.SetArgs(args)
		os.Exit(cli.Run(cmd))
	case "scheduler":
		cmd := scheduler.NewSchedulerCommand()
		cmd.SetArgs(args)
		os.Exit(cli.Run(cmd))
	default:
		usage()
	}
}
