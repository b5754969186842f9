import { createHash } from 'node:crypto';

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
`.trim();

/**
 * Progressive enhancement only: without it every figure is drawn by the server and a reload (or the
 * invoice panel's meta refresh) shows what is new. With it:
 * - what this device has left is read from /balance every 5 s while the page is visible, and
 *   drawn as the server draws it (amounts.ts);
 * - an invoice still waiting (unpaid, or paid and not yet credited) is read from /ln-invoice every
 *   3 s, and the page reloads when its state or its access changes;
 * - the copy button copies the invoice (the clipboard API needs a secure context, which a plain
 *   http:// portal is not, so selecting and copying is the fallback).
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
})();
`.trim();

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Nothing but this page's own inline style and script, its own forms, and same-origin polling. */
export const PORTAL_CSP = [
  "default-src 'none'",
  `style-src ${sha256(PORTAL_CSS)}`,
  `script-src ${sha256(PORTAL_JS)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');
