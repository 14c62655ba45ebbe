// Gear2: a second HTTP Gear. It greets with the text from its env and counts
// the requests this process has served.
var http = require('http');
var greeting = require('./file1');
var counter = require('./file2');

var hits = counter.create();

http.createServer(function (req, res) {
  var body = {
    gear: 'Gear2',
    greeting: greeting.text(process.env),
    requests_served: hits.next(),
    dotcloud_service: process.env.DOTCLOUD_SERVICE_NAME || null
  };
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body, null, 2) + '\n');
}).listen(8080);
