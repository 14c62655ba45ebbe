// Says whether each SQL data service takes a TCP connection at the host and port
// environment.json gives it, as on dotCloud (never localhost). It has no database
// driver: the tests read and write the data with the servers' own clients.
var fs = require('fs');
var http = require('http');
var net = require('net');

var SERVICES = { accounts: 'DOTCLOUD_ACCOUNTS_MYSQL', ledger: 'DOTCLOUD_LEDGER_SQL' };

function reach(host, port, done) {
  var said = false;
  function say(what) {
    if (!said) {
      said = true;
      socket.destroy();
      done(what);
    }
  }
  var socket = net.connect(port, host, function () { say('open'); });
  socket.setTimeout(5000, function () { say('timeout'); });
  socket.on('error', function (err) { say(err.code || String(err)); });
}

http.createServer(function (req, res) {
  var env = JSON.parse(fs.readFileSync(process.env.HOME + '/environment.json', 'utf8'));
  var names = Object.keys(SERVICES);
  var found = {};
  names.forEach(function (name) {
    var key = SERVICES[name];
    reach(env[key + '_HOST'], Number(env[key + '_PORT']), function (what) {
      found[name] = what;
      if (Object.keys(found).length === names.length) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(found) + '\n');
      }
    });
  });
}).listen(8080);
