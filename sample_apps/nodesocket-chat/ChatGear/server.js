// A tiny TCP chat: every line a client sends goes to every connected client.
// On dotCloud the platform assigns the port of a TCP service; the Gear reads it
// from /home/dotcloud/environment.json (PORT_SERVER), falling back to nodeSocket's
// 7000 when it runs anywhere else.
var fs = require('fs');
var net = require('net');

function settings() {
  try {
    return JSON.parse(fs.readFileSync(process.env.HOME + '/environment.json', 'utf8'));
  } catch (e) {
    return {};
  }
}

var env = settings();
var port = Number(env.PORT_SERVER || 7000);
var clients = [];

net.createServer(function (socket) {
  clients.push(socket);
  socket.write((process.env.MOTD || env.MOTD || 'Welcome') + '\n');
  socket.on('data', function (data) {
    clients.forEach(function (other) { other.write(data); });
  });
  socket.on('close', function () {
    clients.splice(clients.indexOf(socket), 1);
  });
  socket.on('error', function () {});
}).listen(port);
