package ws

// HoldsFirstWrite reports whether c's first WriteMessages waits for the delay after the
// upgrade.
func HoldsFirstWrite(c *Conn) bool { return !c.holdUntil.IsZero() }
