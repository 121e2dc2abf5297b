from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from maillage.accounts import views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.SignInView.as_view(), name="login"),
    path("second-facteur/", views.second_factor, name="second_factor"),
    path("deconnexion/", views.sign_out, name="logout"),
    path("jetons/", views.api_tokens, name="tokens"),
    path("jetons/<uuid:token_uuid>/revoquer/", views.revoke_api_token, name="revoke_token"),
    # The link an administrator has sent: the user chooses a password (Django's views).
    path(
        "mot-de-passe/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/choisi/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
