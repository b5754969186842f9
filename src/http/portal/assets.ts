import { createHash } from 'node:crypto';
import { TOKEN_FROM_SCAN_JS } from './scanned-token.ts';

/*
 * The portal's only style and script, sent inline with the page: one answer is the whole first
 * view, nothing is fetched from elsewhere (an unpaid phone reaches nothing else), and the
 * Content-Security-Policy allows exactly these two by hash.
 */

export const PORTAL_CSS = `
:root{color-scheme:light;--fg:#1a1a1a;--muted:#4d4d4d;--accent:#0b5cad;--bg:#fff;--box:#f3f5f8;--ok:#0a6b2d;--bad:#a3120f}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:34rem;margin:0 auto;padding:0 1rem}
header{padding-top:1rem}
h1{font-size:1.5rem;margin:.5rem 0}
h2{font-size:1.15rem;margin:1.25rem 0 .5rem}
section{background:var(--box);border-radius:.5rem;padding:.25rem 1rem 1rem;margin:1rem 0}
label{display:block;font-weight:600;margin:.5rem 0 .25rem}
textarea,input,select{width:100%;font:inherit;padding:.5rem;border:2px solid #6b6b6b;border-radius:.375rem;background:#fff;color:var(--fg)}
textarea{min-height:5rem;word-break:break-all}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:.6rem 1.2rem;margin:.75rem .5rem 0 0;border:0;border-radius:.375rem;background:var(--accent);color:#fff;text-decoration:none;cursor:pointer}
.secondary{background:#fff;color:var(--accent);border:2px solid var(--accent)}
:focus-visible{outline:3px solid #f0a000;outline-offset:2px}
.hint,small{color:var(--muted)}
.ok{border-left:6px solid var(--ok)}
.bad{border-left:6px solid var(--bad)}
.qr{max-width:18rem;margin:.5rem auto}
.qr svg{display:block;width:100%;height:auto}
ul{padding-left:1.2rem}
.skip{position:absolute;left:-999px}
.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
footer{padding-bottom:2rem;color:var(--muted)}
footer a{color:var(--accent)}
#scan-video{display:block;width:100%;max-height:60vh;margin:.75rem 0 0;background:#000;border-radius:.375rem}
#scan-result:empty{display:none}
#scan-result{padding:.5rem;margin:.5rem 0 0;background:#fff;border-left:6px solid var(--ok)}
#scan-result.bad{border-left-color:var(--bad)}
`.trim();

/**
 * Progressive enhancement only: without it every figure is drawn by the server and a reload (or the
 * invoice panel's meta refresh) shows what is new. With it:
 * - what this device has left is read from /balance every 5 s while the page is visible, and
 *   drawn as the server draws it (amounts.ts);
 * - an invoice still waiting (unpaid, or paid and not yet credited) is read from /ln-invoice every
 *   3 s, and the page reloads when its state or its access changes;
 * - the copy button copies the invoice (the clipboard API needs a secure context, which a plain
 *   http:// portal is not, so selecting and copying is the fallback);
 * - "Scan a token" reads a token's QR code into the token field, for the customer to check and
 *   pay with the form as if pasted. Opening it loads the QR decoder (jsQR, served by tollkeeper at
 *   data-scan-src) and tries the camera where the browser allows it (getUserMedia needs a secure
 *   context, so a plain http:// portal mostly gets the photo path), reading frames with
 *   BarcodeDetector where it exists, else jsQR. The photo path (a file input that opens the camera
 *   app on a phone) works in far more sign-in mini-browsers. A photo is scaled down to 1280 px
 *   before decoding, so a 12-megapixel picture costs the phone little. Choosing a photo, closing
 *   the panel or finding a token ends the camera's turn: a camera answer arriving after that
 *   (the permission prompt, or a refusal) is dropped, and never overwrites what the photo said.
 */
export const PORTAL_JS = `
(function(){
var m=document.getElementById('main'),d=m.dataset,s=document.getElementById('left');
var scales={bytes:[['gigabyte',1e9],['megabyte',1e6],['kilobyte',1e3],['byte',1]],milliseconds:[['hour',36e5],['minute',6e4],['second',1e3]]};
function text(metric,v){var l=scales[metric]||scales.bytes,u=l[l.length-1];for(var i=0;i<l.length;i++)if(v>=l[i][1]){u=l[i];break}
var n=Math.max(0,v)/u[1],f=n<10?2:n<100?1:0;try{return new Intl.NumberFormat(d.lang,{style:'unit',unit:u[0],unitDisplay:'short',maximumFractionDigits:f}).format(n)}catch(e){return n.toFixed(f)+' '+u[0]}}
function get(url){return fetch(url,{cache:'no-store',credentials:'same-origin'}).then(function(r){if(!r.ok)throw r.status;return r.json()})}
function balance(){if(document.hidden||!s)return;get('/balance').then(function(b){
s.textContent=b.session_active?d.left.replace('{left}',text(b.metric,b.remaining)):d.none;s.dataset.active=String(!!b.session_active)}).catch(function(){})}
setInterval(balance,5000);
if(d.quote)setInterval(function(){if(document.hidden)return;get('/ln-invoice?quote='+encodeURIComponent(d.quote)).then(function(q){if(q.state+':'+!!q.access_granted!==d.quoteState)location.reload()}).catch(function(){})},3000);
var c=document.getElementById('copy'),inv=document.getElementById('invoice');
if(c&&inv){c.hidden=false;c.addEventListener('click',function(){function done(){c.textContent=d.copied}
if(navigator.clipboard&&window.isSecureContext)navigator.clipboard.writeText(inv.value).then(done,function(){inv.select();document.execCommand('copy');done()});else{inv.select();document.execCommand('copy');done()}})}
var sc=document.getElementById('scan');
if(sc&&d.scanSrc&&window.Promise){
var tokenOf=${TOKEN_FROM_SCAN_JS};
var opener=document.getElementById('scan-open'),panel=document.getElementById('scan-panel'),out=document.getElementById('scan-result'),file=document.getElementById('scan-file'),video=document.getElementById('scan-video'),stop=document.getElementById('scan-stop'),field=document.getElementById('token'),stream=null,timer=0,loading=null,detector=null,turn=0;
sc.hidden=false;
function say(text,bad){out.textContent=text;out.className=bad?'bad':''}
function decoder(){return loading||(loading=new Promise(function(ok,no){if(window.jsQR)return ok(window.jsQR);var e=document.createElement('script');e.src=d.scanSrc;
e.onload=function(){window.jsQR?ok(window.jsQR):no()};e.onerror=function(){loading=null;no()};document.head.appendChild(e)}))}
function decode(source,w,h,attempts){var k=Math.min(1,1280/Math.max(w,h,1)),cw=Math.max(1,Math.round(w*k)),ch=Math.max(1,Math.round(h*k)),cv=document.createElement('canvas');cv.width=cw;cv.height=ch;
var x=cv.getContext('2d',{willReadFrequently:true});x.drawImage(source,0,0,cw,ch);var r=window.jsQR(x.getImageData(0,0,cw,ch).data,cw,ch,{inversionAttempts:attempts});return r?r.data:null}
function found(text){var t=tokenOf(text);if(t===null){say(d.scanNotToken,true);return false}field.value=t;halt();say(d.scanFound);field.focus();return true}
function halt(){turn++;clearTimeout(timer);if(stream)stream.getTracks().forEach(function(k){k.stop()});stream=null;video.srcObject=null;video.hidden=true;stop.hidden=true}
function frame(){if(detector)return detector.detect(video).then(function(codes){return codes.length?codes[0].rawValue:null},function(){detector=null;return null});
return decoder().then(function(){return video.videoWidth?decode(video,video.videoWidth,video.videoHeight,'dontInvert'):null})}
function tick(){if(!stream)return;frame().then(function(text){if(stream&&!(text!==null&&found(text)))timer=setTimeout(tick,250)},function(){if(stream)timer=setTimeout(tick,250)})}
function camera(){var md=navigator.mediaDevices,mine=++turn;if(!md||!md.getUserMedia)return;say(d.scanLooking);
md.getUserMedia({video:{facingMode:'environment'},audio:false}).then(function(s){if(mine!==turn){s.getTracks().forEach(function(k){k.stop()});return}stream=s;video.srcObject=s;video.hidden=false;stop.hidden=false;
try{if(window.BarcodeDetector)detector=new window.BarcodeDetector({formats:['qr_code']})}catch(e){detector=null}var p=video.play();if(p&&p.catch)p.catch(function(){});tick()},function(){if(mine===turn)say(d.scanNoCamera)})}
opener.addEventListener('click',function(){var show=panel.hidden;panel.hidden=!show;opener.setAttribute('aria-expanded',String(show));
if(!show){halt();return}decoder().catch(function(){say(d.scanFailed,true)});camera()});
stop.addEventListener('click',function(){halt();say('')});
file.addEventListener('change',function(){var f=file.files&&file.files[0];if(!f)return;halt();say(d.scanReading);
decoder().then(function(){return new Promise(function(ok,no){var r=new FileReader();r.onload=function(){var i=new Image();i.onload=function(){ok(i)};i.onerror=no;i.src=r.result};r.onerror=no;r.readAsDataURL(f)})})
.then(function(i){var text=decode(i,i.naturalWidth,i.naturalHeight,'attemptBoth');if(text===null)say(d.scanNoCode,true);else found(text)},function(){say(window.jsQR?d.scanNoCode:d.scanFailed,true)});file.value=''});
}
})();
`.trim();

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

const INLINE_SCRIPT = sha256(PORTAL_JS);

/**
 * Nothing but this page's own inline style and script, its own forms, and same-origin polling;
 * plus, when the page offers the scanner, the QR decoder at its one path on this host
 * (`scannerSource`, a CSP host-source with that exact path). Photos are read as data: URLs.
 */
export function portalCsp(scannerSource: string | null): string {
  return [
    "default-src 'none'",
    `style-src ${sha256(PORTAL_CSS)}`,
    `script-src ${INLINE_SCRIPT}${scannerSource ? ` ${scannerSource}` : ''}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
