from django.contrib.admin import AdminSite


class ConsoleAdminSite(AdminSite):
    site_header = "Raxx operator console"
    site_title = "Raxx console"
    index_title = "Operations"
