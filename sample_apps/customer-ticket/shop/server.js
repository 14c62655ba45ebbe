// The customer's shop: what they sent with their ticket ("it worked on nodeSocket").
//
// Two problems are seeded on purpose, as support meets them:
// - it reaches for its redis database on localhost, which on dotCloud is this container;
// - it listens on 3535, the port nodeSocket routed to, so the platform never reaches it.
// It needs no packages, so a reproduction pushes in seconds.
var http = require('http');
var net = require('net');
var url = require('url');

var DATABASE_URL = 'redis://localhost:6379/0';

function checkDatabase(done) {
  var where = url.parse(DATABASE_URL);
  var socket = net.connect(Number(where.port), where.hostname);
  socket.on('connect', function () { socket.end(); done(null); });
  socket.on('error', function (err) { done(err); });
}

// The customer's debugging aid, left in: it prints the password to the log.
console.log('shop: connecting to ' + DATABASE_URL + ' with password ' + process.env.DB_PASSWORD);
checkDatabase(function (err) {
  console.log(err ? 'shop: database unreachable: ' + err.code : 'shop: database reachable');
});

var server = http.createServer(function (req, res) {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('Welcome to the shop\n');
});

server.listen(3535);
server.on('listening', function () {
  console.log('shop: listening on port ' + server.address().port);
});
