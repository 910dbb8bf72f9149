module signaling-auth/webdemo

go 1.26
