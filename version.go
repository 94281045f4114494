package titan

// Version is the version of the Titan framework.
const Version = "0.1.0-dev"
