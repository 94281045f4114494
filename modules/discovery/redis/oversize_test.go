package redis_test

import (
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
)

// Register refuses an instance whose entry would be longer than
// discovery.MaxEntryBytes, which every reader skips, saying why, rather
// than write it and let the app believe it registered.
func TestRegisterRefusesOversizeEntry(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	testsrv.RefusesOversizeEntry(t, open(t, url, prefix(t, url), time.Minute, nil))
}
