package security

// SubjectsWithCalls is how many subjects the guard counts running calls
// for.
func (g *Guard) SubjectsWithCalls() int {
	g.callsMu.Lock()
	defer g.callsMu.Unlock()
	return len(g.calls)
}
