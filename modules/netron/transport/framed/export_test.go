package framed

// BufferHeld is the capacity of the frame buffer c keeps between reads.
func BufferHeld(c *Conn) int { return cap(c.br.buf) }
