"""ops_rebind.py - a reload that changes the source rebinds it.

  1. another port: what was sent to the old port before the reload is
     forwarded, then the new port works;
  2. the same address written differently (127.0.0.1:P -> localhost:P):
     the new socket is bound beside the old one (SO_REUSEPORT), the reader
     moves over and empties the old one, while a steady stream flows; every
     datagram arrives.
"""
import os
import shutil

from ops_util import Proxy, Sender, Sink, check, free_port, payloads, tempdir, write

d = tempdir()
conf = os.path.join(d, "rebind.conf")
pa, pb, pt = free_port(), free_port(), free_port()
sink = Sink(("127.0.0.1", pt))
write(conf, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\nstats-interval = 0\n" % (pa, pt))
px = Proxy(["--config", conf])
try:
    one = payloads(1000, b"old")
    Sender(("127.0.0.1", pa), one, rate=4000).join()
    write(conf, "source = 127.0.0.1:%d\ntarget = 127.0.0.1:%d\nstats-interval = 0\n" % (pb, pt))
    px.hup()
    check(px.count_log(r"reload: source 127\.0\.0\.1:%d -> 127\.0\.0\.1:%d" % (pa, pb)) == 1, "rebind:\n" + px.log())
    two = payloads(1000, b"new")
    Sender(("127.0.0.1", pb), two, rate=4000).join()
    check(sink.wait_count(2000) == 2000 and sink.data() == one + two, "port change: got %d" % sink.count())

    # Same address, new spelling: overlap while a stream runs.
    data = payloads(6000, b"steady")
    snd = Sender(("127.0.0.1", pb), data, rate=2000)
    import time
    time.sleep(1.0)
    write(conf, "source = localhost:%d\ntarget = 127.0.0.1:%d\nstats-interval = 0\n" % (pb, pt))
    px.hup()
    check(px.count_log(r"reload: source 127\.0\.0\.1:%d -> localhost:%d" % (pb, pb)) == 1, "overlap:\n" + px.log())
    snd.join()
    got = sink.wait_count(2000 + len(data)) - 2000
    check(got == len(data), "overlapping rebind lost %d of %d" % (len(data) - got, len(data)))
    check(sorted(sink.data()[2000:]) == sorted(data), "datagrams differ")
    check(px.stop() == 0, "exit status")
    print("ok: source rebinds")
finally:
    px.stop()
    sink.close()
    shutil.rmtree(d, ignore_errors=True)
