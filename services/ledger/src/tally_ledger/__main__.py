from tally_ledger.main import DEFINITION
from tallykit.service import main as service_main


def main() -> None:
    service_main(DEFINITION)


if __name__ == "__main__":
    main()
