package kubernetes_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/kubernetes"
	"github.com/titanframework/titan/modules/netron"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func quiet(sets ...string) titan.Option {
	return testsrv.Settings(append(sets, "discovery.deregisterDelay=0s")...)
}

// slice is the EndpointSlice of one pod serving who@1.0.0 at addr
// (tcp://host:port), ready or not.
func slice(name, addr string, ready bool) *discoveryv1.EndpointSlice {
	u, _ := url.Parse(addr)
	host, portText, _ := net.SplitHostPort(u.Host)
	port, _ := strconv.Atoi(portText)
	p32, portName := int32(port), "tcp"
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name, Namespace: "apps", Labels: map[string]string{kubernetes.ServiceLabel: "who", kubernetes.VersionLabel: "1.0.0"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{host},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
		}},
		Ports: []discoveryv1.EndpointPort{{Name: &portName, Port: &p32}},
	}
}

// Three pods' EndpointSlices in the (fake) cluster: a client that names
// only the service spreads its calls over them, and when one is marked
// not ready mid-load, it follows the watch and no call fails.
func TestEndpointSlices(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewSimpleClientset()
	var slices []*discoveryv1.EndpointSlice
	for _, name := range []string{"a", "b", "c"} {
		var n *netron.Netron
		testsrv.StartApp(t, quiet("netron.listen=tcp://127.0.0.1:0"), titan.Service("who", "1.0.0", func() *testsrv.Who { return testsrv.NewWho(name) }),
			titan.Invoke(func(x *netron.Netron) { n = x }))
		s := slice("who-"+name, n.Addrs()[0], true)
		if _, err := cs.DiscoveryV1().EndpointSlices("apps").Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		slices = append(slices, s)
	}
	reg := kubernetes.New(cs, "apps", nil)
	if ins, err := reg.Discover(ctx, discovery.Query{Service: "who", Range: "^1"}); err != nil || len(ins) != 3 || ins[0].Health != discovery.Healthy {
		t.Fatalf("Discover = %+v, %v", ins, err)
	}
	if names, err := reg.Services(ctx); err != nil || len(names) != 1 || names[0] != "who" {
		t.Fatalf("Services = %v, %v", names, err)
	}
	var c testsrv.WhoClient
	testsrv.StartApp(t, quiet(), titan.Decorate(func(discovery.Registry) discovery.Registry { return reg }),
		titan.Remote[testsrv.WhoClient]("who@^1"), titan.Invoke(func(x testsrv.WhoClient) { c = x }))
	call := func() (string, error) { return c.Name(ctx) }

	load := testsrv.StartLoad(4, call)
	time.Sleep(300 * time.Millisecond)
	counts, errs := load.End()
	for _, n := range []string{"a", "b", "c"} {
		if counts[n] == 0 {
			t.Errorf("%s got no call: %v", n, counts)
		}
	}
	load = testsrv.StartLoad(4, call) // a is marked not ready under this load
	notReady := slice("who-a", "tcp://"+slices[0].Endpoints[0].Addresses[0]+":"+strconv.Itoa(int(*slices[0].Ports[0].Port)), false)
	if _, err := cs.DiscoveryV1().EndpointSlices("apps").Update(ctx, notReady, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the watch reaches the client
	_, during := load.End()
	load = testsrv.StartLoad(4, call)
	time.Sleep(300 * time.Millisecond)
	after, late := load.End()
	if errs = append(append(errs, during...), late...); len(errs) > 0 {
		t.Fatalf("%d calls failed; the first: %v", len(errs), errs[0])
	}
	if after["a"] > 0 || after["b"] == 0 || after["c"] == 0 {
		t.Errorf("after the watch reported a not ready, calls went to %v", after)
	}
	if h, err := reg.Health(ctx, "who-a/"+slices[0].Endpoints[0].Addresses[0]); err != nil || h != discovery.Unhealthy {
		t.Errorf("Health of the not-ready pod = %v, %v", h, err)
	}
	if err := reg.Register(ctx, discovery.Instance{}); err != nil {
		t.Errorf("Register is a no-op: %v", err)
	}
	if _, err := discovery.Open(ctx, discovery.Config{Backend: "kubernetes", URL: "kubernetes://apps", TTL: time.Second, Heartbeat: time.Millisecond}, nil); err == nil || !strings.Contains(err.Error(), "not running in a pod") {
		t.Errorf("outside a cluster: %v", err)
	}
}

// refuseWatches makes cs refuse the first n watches of EndpointSlices
// (n < 0: every one) as an API server does when RBAC forbids them.
func refuseWatches(cs *fake.Clientset, n int) {
	cs.PrependWatchReactor("endpointslices", func(k8stesting.Action) (bool, watch.Interface, error) {
		if n == 0 {
			return false, nil, nil // the clientset's own watch
		}
		n--
		return true, nil, errors.New(`endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:apps:default" cannot watch resource "endpointslices"`)
	})
}

// When the API server refuses the watch (RBAC forbids it, or it is out of
// reach), Watch pauses between attempts, longer while they fail, instead
// of trying again at once and handing its consumer an error per turn; it
// ends as soon as ctx ends, also in the middle of a pause.
func TestWatchPausesWhileRefused(t *testing.T) {
	cs := fake.NewClientset(slice("who-a", "tcp://10.0.0.1:7070", true))
	refuseWatches(cs, -1)
	r := kubernetes.New(cs, "apps", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelled atomic.Int64 // the time of cancel, in ns since start
	start := time.Now()
	stop := time.AfterFunc(400*time.Millisecond, func() {
		cancelled.Store(int64(time.Since(start)))
		cancel()
	})
	defer stop.Stop()
	errs := 0
	for ins, err := range r.Watch(ctx, discovery.Query{Service: "who"}) {
		if err == nil {
			t.Fatalf("Watch gave %s although every watch is refused", testsrv.IDs(ins))
		}
		if !strings.Contains(err.Error(), "forbidden") {
			t.Errorf("the error does not say why: %v", err)
		}
		errs++
	}
	end := time.Since(start)
	if errs == 0 || errs > 5 {
		t.Errorf("Watch gave %d errors in 400ms of refused watches, want a few", errs)
	}
	if late := end - time.Duration(cancelled.Load()); late > 150*time.Millisecond {
		t.Errorf("Watch ended %v after ctx did, want at once", late.Round(time.Millisecond))
	}
}

// Once the API server lets the watch through, Watch gives the instances.
func TestWatchRecoversFromRefusals(t *testing.T) {
	cs := fake.NewClientset(slice("who-a", "tcp://10.0.0.1:7070", true))
	refuseWatches(cs, 2)
	r := kubernetes.New(cs, "apps", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errs := 0
	for ins, err := range r.Watch(ctx, discovery.Query{Service: "who"}) {
		if err != nil {
			errs++
			continue
		}
		if testsrv.IDs(ins) != "who-a/10.0.0.1" {
			t.Errorf("Watch gave %s, want who-a/10.0.0.1", testsrv.IDs(ins))
		}
		break
	}
	if errs != 2 || ctx.Err() != nil {
		t.Errorf("Watch gave %d errors (want the 2 refusals), then ctx: %v", errs, ctx.Err())
	}
}
