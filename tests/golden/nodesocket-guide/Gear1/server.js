// Gear1: the porting guide's example Gear.
//
// It answers every HTTP request with the settings it was started with, so you
// can see exactly what the platform handed it. It reads its MongoDB settings
// but never connects: the sample runs without a database.
var http = require('http');
var settings = require('./file1');
var page = require('./file2');

var started = new Date();

var server = http.createServer(function (req, res) {
  var body = page.render({
    gear: 'Gear1',
    path: req.url,
    started: started.toISOString(),
    listening: server.address().port,
    settings: settings.read(process.argv.slice(2), process.env)
  });
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(body);
});

server.listen(3535);

server.on('listening', function () {
  console.error('Gear1 listening on port ' + server.address().port);
});
