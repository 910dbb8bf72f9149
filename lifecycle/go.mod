module signaling-auth/lifecycle

go 1.26.0
