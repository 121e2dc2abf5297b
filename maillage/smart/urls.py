"""The OAuth 2.0 / OpenID Connect endpoints under /o/ (namespace of the toolkit).

Only what SMART needs: authorize (ours), token, revocation, OIDC discovery
and keys, userinfo. No dynamic client registration and no application
management pages: applications are registered by an administrator.
"""

from django.urls import path, re_path
from oauth2_provider import views as oauth

from maillage.smart import views

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", views.SmartAuthorizationView.as_view(), name="authorize"),
    path("token/", oauth.TokenView.as_view(), name="token"),
    path("revoke_token/", views.AuditedRevokeTokenView.as_view(), name="revoke-token"),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        oauth.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", oauth.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", oauth.UserInfoView.as_view(), name="user-info"),
]
