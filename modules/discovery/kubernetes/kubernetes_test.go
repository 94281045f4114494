package kubernetes_test

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/kubernetes"
	"github.com/titanframework/titan/modules/netron"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Who answers which instance served the call.
type Who struct{ name string }

func (w *Who) Name(context.Context) (string, error) { return w.name, nil }

type WhoClient struct {
	Name func(ctx context.Context) (string, error)
}

func quiet(sets ...string) titan.Option {
	return titan.WithConfig(config.Options{Sets: append([]string{"logger.level=error", "discovery.deregisterDelay=0s"}, sets...), Environ: []string{}, NoWatch: true})
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
		app := titan.New(quiet("netron.listen=tcp://127.0.0.1:0"), titan.Service("who", "1.0.0", func() *Who { return &Who{name: name} }),
			titan.Invoke(func(x *netron.Netron) { n = x }))
		if err := app.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer app.Stop(ctx)
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
	var c WhoClient
	capp := titan.New(quiet(), titan.Decorate(func(discovery.Registry) discovery.Registry { return reg }),
		titan.Remote[WhoClient]("who@^1"), titan.Invoke(func(x WhoClient) { c = x }))
	if err := capp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer capp.Stop(ctx)

	var mu sync.Mutex
	counts := map[string]int{}
	var failed atomic.Int64
	var after atomic.Bool
	aAfter := atomic.Int64{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				who, err := c.Name(ctx)
				if err != nil {
					failed.Add(1)
					continue
				}
				mu.Lock()
				counts[who]++
				mu.Unlock()
				if who == "a" && after.Load() {
					aAfter.Add(1)
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	notReady := slice("who-a", "tcp://"+slices[0].Endpoints[0].Addresses[0]+":"+strconv.Itoa(int(*slices[0].Ports[0].Port)), false)
	if _, err := cs.DiscoveryV1().EndpointSlices("apps").Update(ctx, notReady, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the watch reaches the client
	after.Store(true)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d calls failed", failed.Load())
	}
	for _, n := range []string{"a", "b", "c"} {
		if counts[n] == 0 {
			t.Errorf("%s got no call: %v", n, counts)
		}
	}
	if aAfter.Load() > 0 {
		t.Errorf("the not-ready pod got %d calls after the watch reported it", aAfter.Load())
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
