package health_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/titanframework/titan/modules/health"
)

// A critical check that fails makes the report unhealthy (503); one that
// is not critical, degraded (200).
func ExampleChecker() {
	dbUp := true
	c, err := health.NewChecker(0,
		health.Check{Name: "database", Critical: true, Run: func(context.Context) error {
			if !dbUp {
				return errors.New("connection refused")
			}
			return nil
		}},
		health.Check{Name: "search", Run: func(context.Context) error { return errors.New("reindexing") }},
	)
	if err != nil {
		panic(err)
	}
	rep := c.Ready(context.Background())
	fmt.Println(rep.Status, rep.Status.HTTPStatus())
	dbUp = false
	rep = c.Ready(context.Background())
	fmt.Println(rep.Status, rep.Status.HTTPStatus(), rep.Checks["database"].Error)
	// Output:
	// degraded 200
	// unhealthy 503 connection refused
}
