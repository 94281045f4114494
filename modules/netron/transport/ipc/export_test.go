package ipc

// ParentPipes returns EnvVar as this process was started with ("" when not by Spawn).
func ParentPipes() string { return parentPipes }

// SetParentPipes makes the process look started by Spawn with the pipes v names ("3,4"), or
// not started so when v is empty, until restore is called.
func SetParentPipes(v string) (restore func()) {
	old := parentPipes
	parentPipes = v
	return func() { parentPipes = old }
}
