package cache

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/titanframework/titan/modules/netron"
)

// VaryByKey is the policy key [VaryBy] records its metadata keys under
// (a []string; [netron.MethodSpec.Policy]).
const VaryByKey = "cache.varyBy"

// VaryBy makes the caller's metadata under keys part of the key a result
// is kept under, for every method of a service or, given to
// [netron.WithMethod] (titan.Method), for one method, whose own VaryBy
// then replaces its service's. Name the keys a method reads with
// [netron.IncomingMetadata] and answers differently for (a tenant, a
// locale): callers that send different values, or one that sends none,
// then never share a result. Keys not named (a trace id) are left out,
// or no two calls would share one. Metadata values count towards a
// result's size like the arguments do. Without a cache among the
// Netron's interceptors, VaryBy does nothing.
func VaryBy(keys ...string) netron.Policy {
	keys = append([]string(nil), keys...)
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = strconv.Quote(k)
	}
	desc := fmt.Sprintf("cache.VaryBy(%s)", strings.Join(quoted, ", "))
	return netron.WithPolicy(desc, VaryByKey, keys, func(any) error {
		if len(keys) == 0 {
			return errors.New("name at least one metadata key")
		}
		for _, k := range keys {
			if k == "" {
				return errors.New("a metadata key is empty")
			}
		}
		return nil
	})
}
