// Drives a WebHDFS server with the off-the-shelf npm `webhdfs` client and
// prints what it saw as one JSON object. Usage: node npm_client.js HOST PORT
'use strict';
const WebHDFS = require('webhdfs');
const { promisify } = require('util');

const [host, port] = process.argv.slice(2);
const hdfs = WebHDFS.createClient({ host, port, path: '/webhdfs/v1', user: 'nodeuser' });
const call = (fn, ...args) => promisify(fn).apply(hdfs, args);

async function main() {
  const out = {};
  await call(hdfs.mkdir, '/npm/dir');
  await call(hdfs.writeFile, '/npm/dir/hello.txt', 'hello from node');
  await call(hdfs.appendFile, '/npm/dir/hello.txt', ', appended');
  await call(hdfs.writeFile, '/npm/kept.txt', Buffer.from('kept'));
  out.list = (await call(hdfs.readdir, '/npm/dir')).map(f => ({ name: f.pathSuffix, type: f.type, length: f.length, owner: f.owner }));
  out.read = (await call(hdfs.readFile, '/npm/dir/hello.txt')).toString();
  const st = await call(hdfs.stat, '/npm/dir/hello.txt');
  out.stat = { type: st.type, length: st.length, permission: st.permission };
  await call(hdfs.rename, '/npm/dir/hello.txt', '/npm/dir/renamed.txt');
  out.renamedList = (await call(hdfs.readdir, '/npm/dir')).map(f => f.pathSuffix);
  await call(hdfs.unlink, '/npm/dir', true);
  out.existsAfterDelete = await new Promise(resolve => hdfs.exists('/npm/dir', resolve));
  try {
    await call(hdfs.stat, '/npm/missing');
    out.missingError = null;
  } catch (e) {
    out.missingError = e.message;
  }
  console.log(JSON.stringify(out));
}

main().catch(e => { console.error('npm webhdfs client failed:', e && e.stack || e); process.exit(1); });
