module signaling-auth/corsproxy

go 1.26
