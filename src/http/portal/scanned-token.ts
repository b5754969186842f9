/**
 * The portal's reading of a scanned QR code, as the browser runs it (a function expression, sent
 * inside the page's script): the Cashu token it holds, or null. A token is `cashuA…` (v3) or
 * `cashuB…` (v4) in base64 or base64url, alone or behind a `cashu:` URI prefix, as wallets show
 * it. Animated multi-part codes (BC-UR) hold fragments, not a token: they read as null.
 * Kept in ES5 for old sign-in mini-browsers.
 */
export const TOKEN_FROM_SCAN_JS = `function(text){
var t=String(text==null?'':text).replace(/^\\s+|\\s+$/g,'').replace(/^cashu:(\\/\\/)?(?=cashu[AB])/i,'');
return t.length<=65536&&/^cashu[AB][A-Za-z0-9_\\-+\\/]+={0,2}$/.test(t)?t:null}`;
