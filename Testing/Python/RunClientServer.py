"""Client-server test: `mpirun -np 2 pvserver` on a free loopback port and a pvpython client
that connects, loads the plugin remotely, runs a pipeline and checks numbers. The server is
shut down whatever happens."""
import os
import signal
import socket
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import ibctest  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.3)
    return False


env = dict(os.environ)
port = free_port()
# Test volumes for CT Volume Reader on the server (same machine, so the same paths).
volumes = ibctest.fresh_output_dir("clientserver-volumes")
subprocess.run([env["IBC_WRITE_TEST_VOLUMES"], volumes], check=True)
log_path = os.path.join(ibctest.output_dir("clientserver"), "pvserver.log")
log = open(log_path, "w")
server = subprocess.Popen([env["IBC_MPIRUN"], "--allow-run-as-root", "--oversubscribe", "-np", "2",
                           env["IBC_PVSERVER"], "--server-port=%d" % port],
                          stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
status = 1
try:
    # pvserver accepts one connection; the probe connection would use it up, so wait for the
    # log line instead of connecting.
    deadline = time.time() + 60
    while time.time() < deadline and "Accepting connection" not in open(log_path).read():
        if server.poll() is not None:
            break
        time.sleep(0.3)
    if "Accepting connection" not in open(log_path).read():
        print("pvserver did not start:\n" + open(log_path).read())
    else:
        client = subprocess.run([env["IBC_PVPYTHON"], os.path.join(here, "ClientServerClient.py"), str(port),
                                 volumes],
                                env=env, timeout=600)
        status = client.returncode
finally:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    log.close()
print("client-server test exit status %d" % status)
sys.exit(status)
