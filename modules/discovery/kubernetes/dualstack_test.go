package kubernetes_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/kubernetes"
)

// A dual-stack Service has one EndpointSlice per address family, each
// listing the same pods: a pod is one instance (its id is unique in the
// registry, as Registry says), with the addresses of both, not two
// instances that a balancer would each give a share of the calls.
func TestDualStackPodIsOneInstance(t *testing.T) {
	v4 := slice("who-v4", "tcp://10.0.0.1:7070", true)
	v6 := slice("who-v6", "tcp://[fd00::1]:7070", true)
	v6.AddressType = discoveryv1.AddressTypeIPv6
	for _, s := range []*discoveryv1.EndpointSlice{v4, v6} {
		s.Endpoints[0].TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: "apps", Name: "who-7d9f-abcde"}
	}
	r := kubernetes.New(fake.NewClientset(v4, v6), "apps", nil)
	ins, err := r.Discover(context.Background(), discovery.Query{Service: "who"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 1 || ins[0].ID != "apps/who-7d9f-abcde/who@1.0.0" || len(ins[0].Addrs) != 2 {
		t.Fatalf("Discover = %+v, want the pod once, with both addresses", ins)
	}
	if addrs := discovery.Addresses(ins); len(addrs) != 1 {
		t.Errorf("Addresses = %v: the pod would get a share of the calls per address family", addrs)
	}
}

// A pod that serves two Titan services (two Kubernetes Services select
// it) is an instance of each.
func TestPodOfTwoServices(t *testing.T) {
	a := slice("who-v4", "tcp://10.0.0.1:7070", true)
	b := slice("other-v4", "tcp://10.0.0.1:7071", true)
	b.Labels[kubernetes.ServiceLabel] = "other"
	for _, s := range []*discoveryv1.EndpointSlice{a, b} {
		s.Endpoints[0].TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: "apps", Name: "who-7d9f-abcde"}
	}
	r := kubernetes.New(fake.NewClientset(a, b), "apps", nil)
	names, err := r.Services(context.Background())
	if err != nil || len(names) != 2 {
		t.Fatalf("Services = %v, %v; want other and who", names, err)
	}
}
