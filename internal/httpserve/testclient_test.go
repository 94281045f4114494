package httpserve

import (
	"net/http"
	"time"
)

// testClient is the tests' HTTP client. Its timeout fails a test whose
// server never answers, where http.Get would hang it until go test's own.
var testClient = &http.Client{Timeout: 30 * time.Second}
