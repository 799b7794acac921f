// Command testbed runs a throw-away Kubernetes control plane on loopback for kube-harden's tests:
// embedded etcd, kube-apiserver and kube-controller-manager, all from k8s.io/kubernetes v1.34.4.
//
// Usage:
//
//	testbed up --dir DIR            supervisor: PKI, kubeconfigs, etcd (in-process), and the two servers
//	                                as child processes of this same binary; writes DIR/ready when usable
//	testbed apiserver [flags...]    kube-apiserver (used by `up`)
//	testbed controller-manager [...] kube-controller-manager (used by `up`)
//
// Each server runs in its own process because both call SetupSignalHandler-style helpers that may only
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
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: testbed up --dir DIR | testbed apiserver [flags] | testbed controller-manager [flags]")
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
	default:
		usage()
	}
}
