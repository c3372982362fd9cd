// hotshots_send.js - drive the DogStatsD client library hot-shots (npm) at
// udp-proxy for test_shape_hotshots.py, and record every datagram it put on
// the wire (base64, one per line) so the test knows the exact bytes sent.
// Usage: node hotshots_send.js MODULE_DIR HOST PORT LOG_FILE
'use strict';
const dgram = require('dgram');
const fs = require('fs');
const path = require('path');
const [, , modDir, host, port, logPath] = process.argv;

const sent = [];
const origSend = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function (msg, ...rest) {
  let buf = Buffer.from(msg);
  if (typeof rest[0] === 'number' && typeof rest[1] === 'number') buf = buf.subarray(rest[0], rest[0] + rest[1]);
  sent.push(buf.toString('base64'));
  return origSend.call(this, msg, ...rest);
};

const StatsD = require(path.join(modDir, 'hot-shots'));
const c = new StatsD({
  host, port: Number(port), protocol: 'udp',
  maxBufferSize: 1432, bufferFlushInterval: 20, // the client packs lines itself
  containerID: 'abc123def456', cardinality: 'orchestrator', globalTags: {env: 'ci'},
  errorHandler: (e) => { console.error('hot-shots:', e); process.exitCode = 1; },
});
const N = 100;
for (let i = 0; i < N; i++) {
  c.increment('hs.requests', 1, ['route:/a']);
  c.increment('hs.sampled', 2, 0.5, ['canary']); // a sample rate and a bare tag
  c.gauge('hs.temp', 20 + i);
  c.gaugeDelta('hs.temp', -3); // signed gauges
  c.gaugeDelta('hs.queue', 2);
  c.histogram('hs.size', i, ['k:v']);
  c.distribution('hs.lat', i / 10, ['k:v']);
  c.timing('hs.time', 5, ['k:v']);
  c.set('hs.users', 'u' + (i % 7));
  if (i % 10 === 0) {
    c.event('deploy', 'text ' + i, {alert_type: 'info'}, ['svc:x']);
    c.check('hs.db', c.CHECKS.OK, {message: 'fine'}, ['svc:x']);
  }
}
c.close((err) => {
  fs.writeFileSync(logPath, sent.join('\n'));
  process.exit(err ? 1 : process.exitCode || 0);
});
