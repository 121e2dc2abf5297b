from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "maillage.tasks"
    label = "tasks"
