from django.urls import path

from maillage.accounts import views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.SignInView.as_view(), name="login"),
    path("second-facteur/", views.second_factor, name="second_factor"),
    path("deconnexion/", views.sign_out, name="logout"),
]
