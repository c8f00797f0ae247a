// Where the API lives. Deployments may overwrite this file (it is not content-hashed);
// an empty value means "same origin".
window.API_URL = window.API_URL || "http://127.0.0.1:8000";
