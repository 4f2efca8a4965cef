package daemon

// The environment apply starts each daemon with (`supervise start --env`),
// which the supervisor keeps in the daemon's record and the probe reads
// back: the configuration hash and runtime binary it was started with, so a
// daemon still running an old configuration or binary is restarted.
const (
	EnvConfigSHA256  = "HACTL_CONFIG_SHA256"
	EnvRuntimeSHA256 = "HACTL_RUNTIME_SHA256"
)
