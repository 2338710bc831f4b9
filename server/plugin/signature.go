package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// The headers of a call the plugin forwards to the bridge. The bridge (server/http/signature.ts) recomputes
// the signature and refuses the call with 401 when it is missing, wrong or older than its window.
const (
	headerUser      = "X-Egress-Advisor-User"
	headerTimestamp = "X-Egress-Advisor-Timestamp"
	headerSignature = "X-Egress-Advisor-Signature"
)

// signatureDomain keeps these MACs apart from any other use of the same secret.
const signatureDomain = "egress-advisor/plugin-call/v1"

// canonicalCall is what is signed: one field per line, the body by its digest. The user is the one
// Mattermost authenticated (Mattermost-User-Id); "" for a call no user made.
func canonicalCall(method, pathAndQuery, userID string, unixSeconds int64, body []byte) string {
	digest := sha256.Sum256(body)
	return signatureDomain + "\n" + method + "\n" + pathAndQuery + "\n" + userID + "\n" +
		strconv.FormatInt(unixSeconds, 10) + "\n" + hex.EncodeToString(digest[:])
}

// sign returns the hex HMAC-SHA256 of the canonical call under the shared secret.
func sign(secret, method, pathAndQuery, userID string, unixSeconds int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(canonicalCall(method, pathAndQuery, userID, unixSeconds, body)))
	return hex.EncodeToString(mac.Sum(nil))
}

// signRequest sets the three headers on a request about to go to the bridge.
func signRequest(req *http.Request, secret, userID string, now time.Time, body []byte) {
	ts := now.Unix()
	req.Header.Set(headerUser, userID)
	req.Header.Set(headerTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(headerSignature, sign(secret, req.Method, req.URL.RequestURI(), userID, ts, body))
}
