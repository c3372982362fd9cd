"""Per-reader received counter: udp_proxy_reader_received_datagrams_total{reader="i"}
exists for every reader, the readers' shares add up to received_datagrams_total,
and with --readers 2 and many sender ports both readers take a share (SO_REUSEPORT
spreads by the sender's address and port)."""
import socket
import sys
import time

import metricslib as ml


def main():
    binary = sys.argv[1]
    sink = ml.Sink()
    src, mport = ml.free_port(socket.SOCK_DGRAM), ml.free_port()
    p = ml.Proxy(binary, ["--source", "127.0.0.1:%d" % src, "--target", "127.0.0.1:%d" % sink.port,
                          "--readers", "2", "--metrics-listen", "127.0.0.1:%d" % mport, "--stats-interval", "0"])
    try:
        s = ml.scrape(mport)
        for r in ("0", "1"):
            assert ml.value(s, "udp_proxy_reader_received_datagrams_total", reader=r) == 0, s
        # 64 sender sockets (64 source ports), 20 datagrams each: the kernel's
        # hash puts some on each reader.
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(64)]
        n = 0
        for rnd in range(20):
            for i, so in enumerate(socks):
                so.sendto(ml.payload(n), ("127.0.0.1", src))
                n += 1
            time.sleep(0.01)  # about 6k/s: far below any loss
        for so in socks:
            so.close()
        s = ml.wait_until(lambda: (lambda x: x if ml.value(x, "udp_proxy_received_datagrams_total") +
                                   sum(v for k, v in x.items() if k[0] == "udp_proxy_kernel_receive_drops_total")
                                   >= n else None)(ml.scrape(mport)), 20, step=0.2, what="all datagrams counted")
        total = ml.value(s, "udp_proxy_received_datagrams_total")
        per = [ml.value(s, "udp_proxy_reader_received_datagrams_total", reader=r) for r in ("0", "1")]
        print("received=%d per reader=%s" % (total, per))
        assert sum(per) == total, "the readers' shares (%s) add up to received (%d)" % (per, total)
        assert total > 0 and all(v > 0 for v in per), "both readers took a share: %s" % per
        assert p.stop() == 0
    finally:
        if p.proc.poll() is None:
            p.proc.kill()
        sink.kill()
    print("PASS")


if __name__ == "__main__":
    main()
