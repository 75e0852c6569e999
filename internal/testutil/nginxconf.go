package testutil

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// nginxConf is a self-contained mirror config: every path nginx writes is
// inside one directory, and it serves as a distribution mirror would
// (sendfile, tcp_nopush). The access log records what each request was
// served, so tests can prove a Range resume fetched only the rest.
const nginxConf = `daemon off;
master_process on;
worker_processes 2;
%s
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 1024; }
http {
	log_format served '$request_method	$uri	$http_range	$status	$body_bytes_sent';
	access_log %[2]s/access.log served;
	client_body_temp_path %[2]s/client_body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	sendfile on;
	tcp_nopush on;
	default_type application/octet-stream;
	server {
		listen %[3]s;
		root %[4]s;
		location / { }
	}
}
`

// NginxConfig writes dir/nginx.conf for serving root on listen
// ("127.0.0.1:8080"), keeping every file nginx writes in dir, and returns
// its path. Harnesses that start nginx themselves (in a network namespace)
// use it directly; LaunchNginx runs it on loopback.
func NginxConfig(dir, listen, root string) (string, error) {
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers as nobody could not read 0700 temp dirs
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, user, dir, listen, root), 0o644); err != nil {
		return "", fmt.Errorf("nginx config: %w", err)
	}
	return conf, nil
}

// LaunchNginx starts bin serving root on a free 127.0.0.1 port with its
// files in dir, waits until it answers, and returns its base URL (with a
// trailing slash) and a function that stops it.
func LaunchNginx(bin, dir, root string) (string, func(), error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	conf, err := NginxConfig(dir, fmt.Sprintf("127.0.0.1:%d", port), root)
	if err != nil {
		return "", nil, err
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() { stopNginx(cmd, exited) }
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if err := waitAnswering(url, exited); err != nil {
		stop()
		log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return "", nil, fmt.Errorf("nginx: %w\noutput: %s\nerror.log: %s", err, out.Bytes(), log)
	}
	return url, stop, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
