// PUT /files/NAME stores the body in ~/data/NAME; GET /files/NAME returns it;
// GET / lists the files this instance has.
var fs = require('fs');
var http = require('http');
var path = require('path');

var dataDir = path.join(process.env.HOME, 'data');
if (!fs.existsSync(dataDir)) {
  fs.mkdirSync(dataDir); // Node.js 0.8 has no { recursive: true }
}

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body) + '\n');
}

http.createServer(function (req, res) {
  var instance = process.env.DOTCLOUD_SERVICE_ID;
  var match = /^\/files\/([A-Za-z0-9._-]+)$/.exec(req.url);
  if (req.url === '/') {
    return send(res, 200, { instance: instance, files: fs.readdirSync(dataDir).sort() });
  }
  if (!match) {
    return send(res, 404, { error: 'use /files/NAME', instance: instance });
  }
  var file = path.join(dataDir, match[1]);
  if (req.method === 'PUT' || req.method === 'POST') {
    var chunks = [];
    req.on('data', function (chunk) { chunks.push(chunk); });
    req.on('end', function () {
      fs.writeFileSync(file, Buffer.concat(chunks));
      send(res, 201, { stored: match[1], instance: instance });
    });
    return;
  }
  fs.readFile(file, 'utf8', function (err, text) {
    if (err) {
      return send(res, 404, { missing: match[1], instance: instance });
    }
    send(res, 200, { name: match[1], content: text, instance: instance });
  });
}).listen(8080);
