"""WeChat 公众号 through wechatpy: `channel` (the callback adapter), `protocol` (signatures, AES,
XML), `render` (replies as WeChat messages), `outbound` (客服 and template messages), `api`
(the HTTP API client), `token` (the shared access_token), `setup` (menu and QR codes)."""
