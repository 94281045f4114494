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

// A pod that serves two Titan services is an instance of each, and each
// is told apart by its id: Health of the id that Discover gives for one
// service answers that instance's state, not the other's (their slices
// may disagree: a Service that publishes not-ready addresses lists the
// pod as ready while it is not).
func TestHealthOfAPodOfTwoServices(t *testing.T) {
	ctx := context.Background()
	a := slice("who-v4", "tcp://10.0.0.1:7070", false)
	b := slice("other-v4", "tcp://10.0.0.1:7071", true)
	b.Labels[kubernetes.ServiceLabel] = "other"
	for _, s := range []*discoveryv1.EndpointSlice{a, b} {
		s.Endpoints[0].TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: "apps", Name: "who-7d9f-abcde"}
	}
	r := kubernetes.New(fake.NewClientset(a, b), "apps", nil)
	ids := map[string]string{}
	for _, c := range []struct {
		service string
		want    discovery.Health
	}{{"who", discovery.Unhealthy}, {"other", discovery.Healthy}} {
		ins, err := r.Discover(ctx, discovery.Query{Service: c.service, AnyHealth: true})
		if err != nil || len(ins) != 1 || ins[0].Health != c.want {
			t.Fatalf("Discover(%s) = %+v, %v; want the pod, %s", c.service, ins, err, c.want)
		}
		if h, err := r.Health(ctx, ins[0].ID); err != nil || h != c.want {
			t.Errorf("Health(%q), the id of the pod's instance of %s = %v, %v; want %s", ins[0].ID, c.service, h, err, c.want)
		}
		if other, ok := ids[ins[0].ID]; ok {
			t.Errorf("the pod's instances of %s and %s have the same id %q", other, c.service, ins[0].ID)
		}
		ids[ins[0].ID] = c.service
	}
}
