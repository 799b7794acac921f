package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// keyPair is a PEM-encoded certificate and private key written to disk.
type keyPair struct {
	CertFile, KeyFile string
	CertPEM, KeyPEM   []byte
	cert              *x509.Certificate
	key               crypto.Signer
}

type pki struct {
	CA, Serving, Admin, Limited, ControllerManager keyPair
	// Scheduler is kube-scheduler's identity (system:kube-scheduler, bound by bootstrap RBAC).
	Scheduler keyPair
	// Kwok is the node simulator's identity (group system:masters: it writes node and pod status,
	// leases and events for every node, like all kubelets together).
	Kwok keyPair
	// Supervisor is `testbed up` itself: it registers the nodes and polls readiness, under its own
	// name so that the audit log tells its requests apart from the tests'.
	Supervisor keyPair
	// Node is the control-plane node's kubelet identity (system:node:<name>, group system:nodes): the
	// static-pod mode writes the API server's mirror pod with it, as a kubelet does (Node authorizer).
	Node                 keyPair
	SAKeyFile, SAPubFile string
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err)
	}
	return n
}

func writePair(dir, name string, cert *x509.Certificate, der []byte, key crypto.Signer) (keyPair, error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return keyPair{}, err
	}
	kp := keyPair{
		CertFile: filepath.Join(dir, name+".crt"),
		KeyFile:  filepath.Join(dir, name+".key"),
		CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		cert:     cert,
		key:      key,
	}
	if err := os.WriteFile(kp.CertFile, kp.CertPEM, 0o644); err != nil {
		return keyPair{}, err
	}
	if err := os.WriteFile(kp.KeyFile, kp.KeyPEM, 0o600); err != nil {
		return keyPair{}, err
	}
	return kp, nil
}

func newECKey() crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func issue(dir, name string, ca keyPair, tmpl *x509.Certificate) (keyPair, error) {
	key := newECKey()
	now := time.Now()
	tmpl.SerialNumber = serial()
	tmpl.NotBefore = now.Add(-time.Hour)
	tmpl.NotAfter = now.Add(365 * 24 * time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return keyPair{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return keyPair{}, err
	}
	return writePair(dir, name, cert, der, key)
}

func client(dir, name string, ca keyPair, cn string, groups ...string) (keyPair, error) {
	return issue(dir, name, ca, &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: groups},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// generatePKI writes a CA, the apiserver serving cert, client certs and the service-account key.
func generatePKI(dir string) (*pki, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &pki{}
	caKey := newECKey()
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "kube-harden-testbed-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	caCert, _ := x509.ParseCertificate(der)
	if p.CA, err = writePair(dir, "ca", caCert, der, caKey); err != nil {
		return nil, err
	}
	if p.Serving, err = issue(dir, "apiserver", p.CA, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")},
	}); err != nil {
		return nil, err
	}
	if p.Admin, err = client(dir, "admin", p.CA, "kube-harden-admin", "system:masters"); err != nil {
		return nil, err
	}
	if p.Limited, err = client(dir, "limited", p.CA, "limited-user"); err != nil {
		return nil, err
	}
	if p.ControllerManager, err = client(dir, "controller-manager", p.CA, "system:kube-controller-manager"); err != nil {
		return nil, err
	}
	if p.Scheduler, err = client(dir, "scheduler", p.CA, "system:kube-scheduler"); err != nil {
		return nil, err
	}
	if p.Kwok, err = client(dir, "kwok", p.CA, "kwok-controller", "system:masters"); err != nil {
		return nil, err
	}
	if p.Supervisor, err = client(dir, "supervisor", p.CA, "testbed-supervisor", "system:masters"); err != nil {
		return nil, err
	}
	if p.Node, err = client(dir, "kubelet", p.CA, "system:node:"+controlPlaneNode, "system:nodes"); err != nil {
		return nil, err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	p.SAKeyFile = filepath.Join(dir, "sa.key")
	p.SAPubFile = filepath.Join(dir, "sa.pub")
	if err := os.WriteFile(p.SAKeyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)}), 0o600); err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.SAPubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		return nil, err
	}
	return p, nil
}
