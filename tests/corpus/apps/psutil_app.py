"""psutil (its C extension): the running process and the machine, as
facts that hold for any process (no pids, sizes or times printed)."""
import os
import subprocess
import sys

import psutil

me = psutil.Process()
print(me.pid == os.getpid(), me.ppid() == os.getppid(),
      me.status() in (psutil.STATUS_RUNNING, psutil.STATUS_SLEEPING))
print(me.exe() == os.path.realpath(sys.executable),
      me.cwd() == os.getcwd(), me.memory_info().rss > 1 << 20)
print(me.num_threads() >= 1, me.username() != "", len(me.cmdline()) >= 1)
print(psutil.cpu_count() == os.cpu_count(),
      psutil.virtual_memory().total > 1 << 26, psutil.boot_time() > 1e9)
print(0 <= psutil.cpu_percent(interval=0.05) <= 100,
      psutil.disk_usage("/").total > 0, psutil.pid_exists(os.getpid()))
child = subprocess.Popen(["sleep", "5"])
kids = me.children()
print([c.pid == child.pid for c in kids], kids[0].name())
kids[0].terminate()
print(psutil.wait_procs(kids, timeout=5)[0][0].returncode)
print("lo" in psutil.net_if_addrs(), psutil.LINUX, psutil.POSIX)
print(psutil.__version__)
