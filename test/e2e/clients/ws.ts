// WebSocket client for the e2e tests: ws://hello/ws, one text frame and its echo. Prints the echo.
import WebSocket from 'ws';

const ws = new WebSocket(process.argv[2] ?? 'ws://hello/ws');
ws.on('open', () => ws.send('ping'));
ws.on('message', (m) => {
  console.log(String(m));
  ws.close();
});
ws.on('error', (e) => {
  console.error(String(e));
  process.exit(1);
});
