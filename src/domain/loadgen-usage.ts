// `runsd loadtest --help`: every flag, in the style of autocannon/hey/wrk (short forms where those
// tools agree on them). Kept apart from the parser so the table of flags reads on its own.
export const USAGE = `usage: runsd loadtest [options] URL          (npm run loadgen -- … in a source checkout)
       runsd loadtest --emulator [options] [URL]  (the emulator + runsd; URL default http://hello/)

Load:
  -c, --connections N     concurrent connections (default 10)
      --streams N         concurrent streams per connection, HTTP/2 and gRPC only (default 1)
  -d, --duration TIME     how long to measure: 10, 10s, 500ms, 2m (default 10s unless -n is given)
  -n, --requests N        stop after N requests (with -d too: whichever comes first)
  -R, --rate N            open loop: N requests/s in all, latency counted from each request's
                          intended send time (coordinated omission corrected, as wrk2 does);
                          without it the load is closed loop (each connection sends as fast as
                          answers come back)
      --warmup TIME       load for this long first, not counted (default 0)
  -t, --threads N         worker threads (piscina pool; default one per core, at most -c)
      --timeout TIME      per-request timeout, counted as error TIMEOUT (default 10s)

Request:
  -m, --method M          request method (default GET; -X is accepted too)
  -H, --header 'K: V'     extra request header (repeatable)
  -b, --body TEXT         request body
      --body-file FILE    request body from a file (with --grpc: one serialized protobuf message)
      --body-size BYTES   a body of that many bytes of 'x'
      --protocol P        http1 (default), h2 (HTTP/2; on http:// that is h2c, prior knowledge) or h2c
      --grpc /pkg.Svc/M   gRPC unary call of that method over HTTP/2 (body = the raw message)

Target:
  URL                     http://NAME/… through runsd (DNS mode; env mode: add --proxy), or
                          https://SERVICE-….run.app/… straight to Cloud Run with an ID token
      --proxy http://H:P  send http:// requests through this HTTP proxy (runsd env mode's HTTP_PROXY)
      --token TOKEN       ID token for https:// targets (default: fetched from the metadata server,
                          GCE_METADATA_HOST honoured, audience = the URL's origin)
      --token-file FILE   read the ID token from a file
      --no-token          send no ID token (a public service)
      --connect-to H:P    open connections to H:P whatever the URL's host (Host/SNI unchanged)
      --cacert FILE       trust this CA for https:// (e.g. the emulator's)
      --compare URL       also load URL (the upstream, straight) in alternating rounds with the
                          main URL (through runsd) and report both and the ratios
      --rounds N          rounds per target with --compare (default 3; -d is per target, split
                          over the rounds)
      --emulator          start the emulator + runsd (env mode) and load URL through it

Report:
      --json              the report as one JSON object on stdout (schema runsd-loadtest/1)
      --html FILE         also write a self-contained HTML page with charts
  -q, --quiet             no progress line on stderr
  -h, --help              this text

Exit status: 0 the run completed (read the report for what the target answered), 1 it could not
be run, 2 bad usage.`;
