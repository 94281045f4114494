package testsrv

import (
	"net/http"
	"time"
)

// HTTPClient is the tests' HTTP client. Its timeout fails a test whose
// server never answers, where http.Get would hang it until go test's own
// timeout.
var HTTPClient = &http.Client{Timeout: 30 * time.Second}
