module signaling-auth/e2e

go 1.26
