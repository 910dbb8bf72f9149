module signaling-auth/tokenserver

go 1.26.0
